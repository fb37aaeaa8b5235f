package main

import (
	"os"
	"path/filepath"
	"testing"
)

// --no-scripts: failing_post_link's script, which fails the create
// otherwise, does not run.
func TestCreateNoScripts(t *testing.T) {
	lockFile := recipesLock(t, "failing_post_link-1.0-0.conda")
	prefix := filepath.Join(t.TempDir(), "env")
	if code, stderr := runCaptured(t, "create", "--prefix", prefix, "--lock", lockFile); code == 0 {
		t.Fatalf("the failing script did not fail the create: %s", stderr)
	}
	if code, stderr := runCaptured(t, "create", "--no-scripts", "--prefix", prefix, "--lock", lockFile); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(prefix, "conda-meta", "history")); err != nil {
		t.Error(err)
	}
}
