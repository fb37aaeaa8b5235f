package install

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCompileNoarchAtLink compiles a noarch: python package where its
// layer is made (staged under its own directory, with the environment's
// python at the prefix): the .pyc and the record are the bytes Finalize
// writes when it compiles the same package in place, and Finalize then
// leaves them alone — a python that fails when run is not run.
func TestCompileNoarchAtLink(t *testing.T) {
	prefix, staged := t.TempDir(), t.TempDir()
	python, ver := prefixPython(t, prefix)
	py := &Python{Version: ver}

	rec, err := Link(recipe(t, "sample_noarch_python-1.0-py_0"), staged, Options{Prefix: prefix, Python: py})
	if err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(staged)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	if err := CompileNoarch(root, prefix, python, nil, []*PrefixRecord{rec}); err != nil {
		t.Fatal(err)
	}
	var pyc string
	for _, p := range rec.PathsData.Paths {
		if p.PathType == PycFile {
			pyc = p.Path
		}
	}
	if pyc == "" {
		t.Fatalf("no .pyc recorded: %v", rec.Files)
	}
	meta := filepath.Join("conda-meta", rec.Dist()+".json")

	// The same package compiled by Finalize in place.
	linkAll(t, prefix, prefix, py, recipe(t, "sample_noarch_python-1.0-py_0"))
	if err := Finalize(prefix, FinalizeOptions{NoScripts: true}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{pyc, meta} {
		a, errA := os.ReadFile(filepath.Join(staged, f))
		b, errB := os.ReadFile(filepath.Join(prefix, f))
		if errA != nil || errB != nil || !bytes.Equal(a, b) {
			t.Errorf("%s: compiled at link and by Finalize differ (%v, %v)", f, errA, errB)
		}
	}

	// Finalize again, with a python that fails: nothing is left to compile.
	os.WriteFile(python, []byte("#!/bin/sh\nexit 3\n"), 0o755)
	if err := Finalize(prefix, FinalizeOptions{NoScripts: true}); err != nil {
		t.Errorf("Finalize ran python for packages already compiled: %v", err)
	}
}

// prefixPython puts the host's python3 at PREFIX/bin/python (a wrapper,
// not a link: Finalize refuses absolute links) and returns its path and
// X.Y; the test is skipped without one.
func prefixPython(t *testing.T, prefix string) (python, version string) {
	t.Helper()
	host, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3 to compile .pyc with")
	}
	out, err := exec.Command(host, "-c", "import sys; print('%d.%d' % sys.version_info[:2])").Output()
	if err != nil {
		t.Fatal(err)
	}
	python = filepath.Join(prefix, "bin", "python")
	if err := os.MkdirAll(filepath.Dir(python), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(python, []byte("#!/bin/sh\nexec "+host+" \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return python, strings.TrimSpace(string(out))
}
