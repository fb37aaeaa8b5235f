package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckPrefixPath(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"srv/opt", "usr/local", "data"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("srv/opt", filepath.Join(root, "opt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/data", filepath.Join(root, "usr/local/conda")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for prefix, want := range map[string]string{
		"/opt/conda":       "the base image's /opt is a symbolic link (to srv/opt)",
		"/usr/local/conda": "the base image's /usr/local/conda is a symbolic link (to /data)",
		"/file/env":        "the base image's /file is not a directory",
		"/srv/opt/conda":   "",
		"/missing/conda":   "",
		"/data":            "",
	} {
		err := checkPrefixPath(root, prefix)
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v", prefix, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%s: got %v, want %q", prefix, err, want)
		}
	}
}
