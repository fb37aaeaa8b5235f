package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/envkit/envkit/internal/spec"
)

// envkit build --platform locks a platform the definition does not name,
// and says so (envkit lock --check then calls the lock stale).
func TestBuildPlatformOutsideTheDefinitionIsSaid(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	env := writeEnv(t, dir, "  - dependent\n")
	_, errOut, code := runSolveCLI(t, "build", env, "--platform", "linux/arm64", "--addr", "tcp://127.0.0.1:1")
	if code == 0 {
		t.Fatal("a build without a reachable BuildKit succeeded")
	}
	if !strings.Contains(errOut, "--platform linux/arm64: locking linux-aarch64 too, which environment.yml does not name") {
		t.Errorf("no note about the added platform:\n%s", errOut)
	}
	if l := readLock(t, filepath.Join(dir, "conda-lock.yml")); strings.Join(l.Metadata.Platforms, " ") != "linux-64 linux-aarch64" {
		t.Errorf("locked %v", l.Metadata.Platforms)
	}
}

// envkit build --frozen of a lock without a target platform names the
// definition as given, so the hint runs from the user's directory (the
// frontend knows only its base name in the context).
func TestBuildFrozenHintNamesTheDefinitionAsGiven(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "w9"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeEnv(t, filepath.Join(dir, "w9"), "  - dependent\n")
	t.Chdir(dir)
	if _, errOut, code := runSolveCLI(t, "lock", "w9/environment.yml"); code != 0 {
		t.Fatalf("lock: exit %d: %s", code, errOut)
	}
	_, errOut, code := runSolveCLI(t, "build", "w9/environment.yml", "--frozen", "--platform", "linux/arm64", "--addr", "tcp://127.0.0.1:1")
	if code == 0 || !strings.Contains(errOut, "run envkit lock --platform linux-aarch64 w9/environment.yml\n") {
		t.Errorf("exit %d:\n%s", code, errOut)
	}
}

// envkit build asks BuildKit for the platforms it builds: --platform's,
// else the definition's (an arm64 definition built without --platform
// asked for the daemon's own, and BuildKit warned that the result did not
// match it); a definition naming none asks for nothing (the daemon's).
func TestBuildRequestsTheDefinitionsPlatforms(t *testing.T) {
	arm := &spec.Definition{Platforms: []string{"linux/arm64"}}
	for _, c := range []struct {
		def  *spec.Definition
		flag []string
		want string
	}{
		{arm, nil, "linux/arm64"},
		{&spec.Definition{Platforms: []string{"linux/amd64", "linux/arm64"}}, nil, "linux/amd64,linux/arm64"},
		{arm, []string{"linux/amd64"}, "linux/amd64"},
		{&spec.Definition{}, nil, ""},
		{nil, nil, ""},
	} {
		attrs := frontendAttrs("env.yml", nil, requestPlatforms(c.def, c.flag), nil)
		if got := attrs["platform"]; got != c.want {
			var named []string
			if c.def != nil {
				named = c.def.Platforms
			}
			t.Errorf("platforms: %v, --platform %v: requested %q, want %q", named, c.flag, got, c.want)
		}
	}
}
