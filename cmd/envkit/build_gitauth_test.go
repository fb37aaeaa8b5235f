package main

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"

	"github.com/envkit/envkit/internal/gitctx"
	"github.com/envkit/envkit/internal/spec"
)

// envkit build gives a private git build context's credentials to
// BuildKit's git source as the secret it reads for the host
// (GIT_AUTH_HEADER.<host>), and no secret without credentials.
func TestDefinitionAuthGitContext(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	t.Setenv("RATTLER_AUTH_FILE", "")
	netrc := filepath.Join(t.TempDir(), "netrc")
	if err := os.WriteFile(netrc, []byte("machine git.example login alice password pw-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("NETRC", netrc)
	def := &spec.Definition{Base: spec.Base{Dockerfile: "FROM scratch\n", Git: &gitctx.Ref{Remote: "https://git.example:8443/org/repo.git", Ref: "main"}}}
	a, err := definitionAuth(def, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:pw-1"))
	if got := string(a.secrets["GIT_AUTH_HEADER.git.example:8443"]); got != want || len(a.secrets) != 1 || len(a.hosts) != 0 {
		t.Errorf("secrets %q, hosts %v: want GIT_AUTH_HEADER.git.example:8443 = %q only", a.secrets, a.hosts, want)
	}
	def.Base.Git.Remote = "https://public.example/org/repo.git"
	if a, err := definitionAuth(def, t.TempDir()); err != nil || len(a.secrets) != 0 {
		t.Errorf("a public context: secrets %q, %v", a.secrets, err)
	}
}
