package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConvert(t *testing.T) {
	src := filepath.Join(realDir, "azureml-examples", "docker-image-plus-conda.yml")
	_, want, _ := cli(t, "hash", src)
	dir := t.TempDir()
	for _, to := range []string{"native", "azureml"} {
		out := filepath.Join(dir, to+".yml")
		if code, _, errs := cli(t, "convert", src, "--to", to, "-o", out); code != 0 {
			t.Fatalf("convert --to %s: exit %d %s", to, code, errs)
		}
		// The conda file path is rewritten relative to the new location.
		if _, got, errs := cli(t, "hash", out); got != want {
			t.Errorf("--to %s: hash %q, want %q %s", to, got, want, errs)
		}
	}
	// A native definition with steps does not fit Azure ML YAML: nothing
	// is written.
	full := filepath.Join("..", "..", "internal", "spec", "testdata", "full.yml")
	out := filepath.Join(dir, "lossy.yml")
	code, _, errs := cli(t, "convert", full, "--to", "azureml", "-o", out)
	if code != 1 || !strings.Contains(errs, "steps") {
		t.Errorf("lossy convert: exit %d, %q", code, errs)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed convert left %s behind", out)
	}
	if code, _, errs := cli(t, "convert", full, "--to", "conda", "--lossy", "-o", out); code != 0 || !strings.Contains(errs, "dropped base") {
		t.Errorf("convert --lossy: exit %d, %q", code, errs)
	}
	if code, _, _ := cli(t, "convert", full); code != 2 {
		t.Errorf("convert without --to: exit %d, want 2", code)
	}
	if code, _, _ := cli(t, "convert", full, "--to", "yaml"); code != 2 {
		t.Errorf("convert --to yaml: exit %d, want 2", code)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}
