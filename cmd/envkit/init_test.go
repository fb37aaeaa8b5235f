package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestInit(t *testing.T) {
	dir := t.TempDir()
	// A build context must lie below the output file: work in a copy.
	if err := os.CopyFS(filepath.Join(dir, "ctx"), os.DirFS(filepath.Join(realDir, "azureml-examples"))); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ flag, src string }{
		{"--from-azureml", filepath.Join(realDir, "glioma-v1")},
		{"--from-azureml", filepath.Join(dir, "ctx", "docker-context.yml")},
		{"--from-conda", filepath.Join(realDir, "mnist", "conda.yml")},
		{"--from-requirements", filepath.Join(realDir, "azureml-examples", "docker-contexts", "python-and-pip", "requirements.txt")},
		{"--from-mlflow", filepath.Join(realDir, "mlflow-langchain", "python_env.yaml")},
	}
	for i, c := range cases {
		out := filepath.Join(dir, "env"+string(rune('a'+i))+".yml")
		if code, _, errs := cli(t, "init", c.flag, c.src, "-o", out); code != 0 {
			t.Fatalf("init %s %s: exit %d %s", c.flag, c.src, code, errs)
		}
		_, want, _ := cli(t, "hash", c.src)
		_, got, errs := cli(t, "hash", out)
		if got != want {
			t.Errorf("init %s %s: hash %q, source %q %s", c.flag, c.src, got, want, errs)
		}
	}
	out := filepath.Join(dir, "enva.yml")
	before, _ := os.ReadFile(out)
	if code, _, errs := cli(t, "init", "--from-conda", cases[2].src, "-o", out); code != 1 || !strings.Contains(errs, "--force") {
		t.Errorf("init over an existing file: exit %d %q", code, errs)
	}
	if after, _ := os.ReadFile(out); string(after) != string(before) {
		t.Error("init replaced an existing file without --force")
	}
	if code, _, _ := cli(t, "init", "--from-conda", cases[0].src, "-o", filepath.Join(dir, "x.yml")); code != 1 {
		t.Errorf("--from-conda given an Azure ML directory: exit %d, want 1", code)
	}
	code, _, errs := cli(t, "init", "--from-azureml", filepath.Join(realDir, "azureml-examples", "docker-context.yml"), "-o", filepath.Join(dir, "y.yml"))
	if code != 1 || !strings.Contains(errs, "build context") {
		t.Errorf("init with the build context outside the output directory: exit %d %q", code, errs)
	}
	if code, _, _ := cli(t, "init", "--from-conda", "a", "--from-requirements", "b"); code != 2 {
		t.Errorf("two sources: exit %d, want 2", code)
	}
}

// --from-mlflow takes a model folder (its python_env.yaml) or the file;
// the written definition hashes as the python_env.yaml does, and so does
// python_env.yaml converted to native.
func TestInitMLflow(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(realDir, "mlflow-sklearn")
	_, want, _ := cli(t, "hash", filepath.Join(model, "python_env.yaml"))
	if !strings.HasPrefix(want, "sha256:") {
		t.Fatalf("hash python_env.yaml: %q", want)
	}
	out := filepath.Join(dir, "env.yml")
	if code, _, errs := cli(t, "init", "--from-mlflow", model, "-o", out); code != 0 || !strings.Contains(errs, "(mlflow)") {
		t.Fatalf("init --from-mlflow DIR: exit %d %s", code, errs)
	}
	if _, got, errs := cli(t, "hash", out); got != want {
		t.Errorf("init --from-mlflow: hash %q, want %q %s", got, want, errs)
	}
	native := filepath.Join(dir, "native.yml")
	if code, _, errs := cli(t, "convert", filepath.Join(model, "python_env.yaml"), "--to", "native", "-o", native); code != 0 {
		t.Fatalf("convert: exit %d %s", code, errs)
	}
	if _, got, errs := cli(t, "hash", native); got != want {
		t.Errorf("python_env.yaml → native: hash %q, want %q %s", got, want, errs)
	}
	// A folder without python_env.yaml, and a conda file given as one.
	code, _, errs := cli(t, "init", "--from-mlflow", dir, "-o", filepath.Join(dir, "x.yml"))
	if code != 1 || !strings.Contains(errs, "python_env.yaml") {
		t.Errorf("init --from-mlflow of a folder without python_env.yaml: exit %d %q", code, errs)
	}
	code, _, errs = cli(t, "init", "--from-mlflow", filepath.Join(model, "conda.yaml"), "-o", filepath.Join(dir, "y.yml"))
	if code != 1 || !strings.Contains(errs, `unknown key "channels"`) {
		t.Errorf("init --from-mlflow of a conda file: exit %d %q", code, errs)
	}
}
