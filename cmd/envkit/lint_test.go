package main

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestLint(t *testing.T) {
	if code, out, _ := cli(t, "lint", filepath.Join(examples, "minimal", "environment.yml")); code != 0 || out != "" {
		t.Errorf("lint of the minimal example: exit %d, %q", code, out)
	}
	p := filepath.Join(realDir, "azureml-examples", "docker-image-plus-conda.yml")
	code, out, _ := cli(t, "lint", p)
	if code != 0 || !strings.Contains(out, "[base-image-latest]") {
		t.Errorf("lint %s: exit %d, %q", p, code, out)
	}
	if code, _, _ := cli(t, "lint", "--strict", p); code != 1 {
		t.Errorf("lint --strict with warnings: exit %d, want 1", code)
	}
	secret := filepath.Join("..", "..", "internal", "lint", "testdata", "fragile.yml")
	if code, out, _ := cli(t, "lint", "--json", secret); code != 1 || !strings.Contains(out, `"rule": "credentials-in-definition"`) {
		t.Errorf("lint --json of a file with credentials: exit %d\n%s", code, out)
	}
}
