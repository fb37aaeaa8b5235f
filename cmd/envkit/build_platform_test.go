package main

import (
	"path/filepath"
	"strings"
	"testing"
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
