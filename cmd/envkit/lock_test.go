package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/envkit/envkit/internal/conda/lock"
	"github.com/envkit/envkit/internal/conformance"
)

func writeEnv(t *testing.T, dir, deps string) string {
	t.Helper()
	channel := "file://" + conformance.Dir(t, "channels", "test-recipes")
	p := filepath.Join(dir, "environment.yml")
	body := "name: t\nchannels:\n  - " + channel + "\ndependencies:\n" + deps
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLockCommand(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	env := writeEnv(t, dir, "  - dependent\n  - run_constrained\n")
	if _, errOut, code := runSolveCLI(t, "lock", env); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	path := filepath.Join(dir, "conda-lock.yml")
	l, err := lock.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range l.ForPlatform("linux-64") {
		got = append(got, p.Name+"="+p.Version)
	}
	if strings.Join(got, " ") != "dependency=2.0 dependent=2.0 run_constrained=1.0" {
		t.Errorf("locked %v", got)
	}
	if l.Metadata.ContentHash["linux-64"] == "" || len(l.Metadata.Sources) != 1 || l.Metadata.Sources[0] != "environment.yml" {
		t.Errorf("metadata %+v", l.Metadata)
	}

	// A current lock is left alone: same bytes, same modification time.
	before, _ := os.ReadFile(path)
	old := time.Unix(1_000_000_000, 0)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := runSolveCLI(t, "lock", env)
	if code != 0 || !strings.Contains(errOut, "up to date") {
		t.Fatalf("second lock: exit %d: %s", code, errOut)
	}
	after, _ := os.ReadFile(path)
	st, _ := os.Stat(path)
	if !bytes.Equal(before, after) || !st.ModTime().Equal(old) {
		t.Error("a current lock was rewritten")
	}

	// A changed definition is solved again, here to an explicit output.
	writeEnv(t, dir, "  - dependent 1.0\n")
	other := filepath.Join(dir, "other.yml")
	if _, errOut, code := runSolveCLI(t, "lock", env, "-o", other, "--platform", "linux-64", "--platform", "linux-aarch64"); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	l, err = lock.ReadFile(other)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Metadata.Platforms) != 2 || len(l.ForPlatform("linux-aarch64")) != 2 {
		t.Errorf("two platforms expected: %+v", l.Metadata.Platforms)
	}
}

func TestLockCommandUnsatisfiableWritesNothing(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	env := writeEnv(t, dir, "  - dependency\n  - unsatisfiable\n")
	_, errOut, code := runSolveCLI(t, "lock", env)
	if code != 1 || !strings.Contains(errOut, "unsatisfiable 1.0 needs versioned <1.0") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "conda-lock.yml")); !os.IsNotExist(err) {
		t.Errorf("a lock was written for an unsatisfiable environment (%v)", err)
	}
	if _, _, code := runSolveCLI(t, "lock"); code != 2 {
		t.Errorf("no FILE: exit %d, want 2", code)
	}
}
