package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/envkit/envkit/curated"
	"github.com/envkit/envkit/internal/spec"
)

// envkit init --curated writes a valid definition extending the curated
// one: it hashes as the curated environment, and its commented example,
// uncommented, adds packages to it.
func TestInitCurated(t *testing.T) {
	dir := t.TempDir()
	for _, name := range curated.Names() {
		out := filepath.Join(dir, name+".yml")
		if code, _, errs := cli(t, "init", "--curated", name, "-o", out); code != 0 {
			t.Fatalf("init --curated %s: exit %d %s", name, code, errs)
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		text := string(data)
		if !strings.HasPrefix(text, "# syntax=") || !strings.Contains(text, "\nname: my-"+name+"\nfrom: curated/"+name+"\n") {
			t.Errorf("init --curated %s wrote:\n%s", name, text)
		}
		if code, stdout, _ := cli(t, "validate", out); code != 0 || !strings.Contains(stdout, "extending curated/"+name) {
			t.Errorf("validate %s: exit %d %q", out, code, stdout)
		}
		_, want, _ := cli(t, "curated", "list", "--json")
		_, got, _ := cli(t, "hash", out)
		if got == "" || !strings.Contains(want, strings.TrimSpace(got)) {
			t.Errorf("%s hashes %q, not the curated %s hash (%s)", out, got, name, want)
		}

		// Uncomment the example: it adds lightgbm and mlflow.
		example := regexp.MustCompile(`(?m)^#([a-z ])`).ReplaceAllString(text[strings.Index(text, "#conda:"):], "$1")
		edited := strings.Replace(text, text[strings.Index(text, "#conda:"):], example, 1)
		def, err := spec.Parse(name+".yml", []byte(edited), nil)
		if err != nil {
			t.Fatalf("%s with the example uncommented: %v\n%s", name, err, edited)
		}
		deps := strings.Join(spec.Specs(def.Conda.Dependencies), " ")
		if !strings.Contains(deps, "lightgbm=4.5") || !strings.Contains(deps, "python=") || len(def.Conda.Pip) == 0 {
			t.Errorf("%s with the example: dependencies %s, pip %v", name, deps, spec.Specs(def.Conda.Pip))
		}
	}

	out := filepath.Join(dir, "sklearn.yml")
	before, _ := os.ReadFile(out)
	if code, _, errs := cli(t, "init", "--curated", "sklearn", "--name", "churn", "-o", out); code != 1 || !strings.Contains(errs, "--force") {
		t.Errorf("init --curated over an existing file: exit %d %q", code, errs)
	}
	if after, _ := os.ReadFile(out); string(after) != string(before) {
		t.Error("init --curated replaced an existing file without --force")
	}
	if code, _, errs := cli(t, "init", "--curated", "curated/sklearn", "--name", "churn", "-o", out, "--force"); code != 0 {
		t.Errorf("init --curated curated/sklearn --force: exit %d %s", code, errs)
	} else if data, _ := os.ReadFile(out); !strings.Contains(string(data), "\nname: churn\nfrom: curated/sklearn\n") {
		t.Errorf("init --name churn wrote:\n%s", data)
	}
	if code, _, errs := cli(t, "init", "--curated", "sklean", "-o", filepath.Join(dir, "x.yml")); code != 1 || !strings.Contains(errs, "sklearn") {
		t.Errorf("init --curated sklean: exit %d %q", code, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "x.yml")); !os.IsNotExist(err) {
		t.Error("init --curated with an unknown name wrote a file")
	}
	if code, _, _ := cli(t, "init", "--curated", "sklearn", "--from-conda", "a"); code != 2 {
		t.Errorf("--curated with --from-conda: exit %d, want 2", code)
	}
}

// convert writes a definition that extends a curated one expanded: the
// output names no curated environment and hashes the same.
func TestConvertExtended(t *testing.T) {
	src := filepath.Join("..", "..", "internal", "spec", "testdata", "extends", "my-sklearn.yml")
	_, want, _ := cli(t, "hash", src)
	out := filepath.Join(t.TempDir(), "expanded.yml")
	if code, _, errs := cli(t, "convert", src, "--to", "native", "-o", out); code != 0 {
		t.Fatalf("convert: exit %d %s", code, errs)
	}
	data, _ := os.ReadFile(out)
	if strings.Contains(string(data), "from:") || !strings.Contains(string(data), "scikit-learn=1.5.2") {
		t.Errorf("converted:\n%s", data)
	}
	if _, got, errs := cli(t, "hash", out); got != want {
		t.Errorf("expanded hashes %q, the definition %q %s", got, want, errs)
	}
	if code, stdout, _ := cli(t, "validate", "--json", src); code != 0 || !strings.Contains(stdout, `"from": "curated/sklearn"`) {
		t.Errorf("validate --json: exit %d %s", code, stdout)
	}
}
