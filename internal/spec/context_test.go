package spec

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// contextDef writes a definition whose steps COPY from its directory (the
// build context), with the files given (a value starting "->" is a
// symlink to the rest), and loads it.
func contextDef(t *testing.T, steps string, files map[string]string) (*Definition, error) {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, "ctx", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		if target, ok := strings.CutPrefix(content, "->"); ok {
			err = os.Symlink(target, p)
		} else {
			err = os.WriteFile(p, []byte(content), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	def := "base:\n  image: docker.io/library/debian:bookworm-slim\nsteps:\n" + steps
	p := filepath.Join(dir, "ctx", "env.yml")
	if err := os.WriteFile(p, []byte(def), 0o644); err != nil {
		t.Fatal(err)
	}
	return Load(p)
}

// A symlink in the build context that leads out of it is refused, as
// BuildKit's context transfer refuses to follow it: the definition hash
// never reads a host file outside the context. A link that stays inside
// hashes its target.
func TestContextSymlinks(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("host secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, steps string
		files       map[string]string
	}{
		{"absolute link", "  - COPY link /x\n", map[string]string{"link": "->" + secret}},
		{"relative link", "  - COPY link /x\n", map[string]string{"link": "->../../" + filepath.Base(filepath.Dir(secret)) + "/secret"}},
		{"link in a directory", "  - COPY dir /x\n", map[string]string{"dir/a": "a", "dir/link": "->" + secret}},
		{"linked directory", "  - COPY up/secret /x\n", map[string]string{"up": "->" + filepath.Dir(secret)}},
		{"glob", "  - COPY l* /x\n", map[string]string{"link": "->" + secret}},
	} {
		_, err := contextDef(t, tc.steps, tc.files)
		if err == nil || !strings.Contains(err.Error(), "leads out of the build context through a symlink") {
			t.Errorf("%s: got %v, want the link refused", tc.name, err)
		}
	}
	def, err := contextDef(t, "  - COPY link /x\n", map[string]string{"target": "inside", "link": "->target"})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("inside"))
	if fs := def.Base.ContextFiles; len(fs) != 1 || fs[0].Path != "link" || fs[0].Digest != "sha256:"+hex.EncodeToString(sum[:]) {
		t.Errorf("context files %+v, want link with the digest of its target", fs)
	}
}
