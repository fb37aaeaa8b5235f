package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// cli runs envkit with args and returns its exit status, stdout and stderr.
func cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	oldOut, oldErr := os.Stdout, os.Stderr
	rOut, wOut, _ := os.Pipe()
	rErr, wErr, _ := os.Pipe()
	os.Stdout, os.Stderr = wOut, wErr
	var out, errb bytes.Buffer
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { io.Copy(&out, rOut); wg.Done() }()
	go func() { io.Copy(&errb, rErr); wg.Done() }()
	code := run(args)
	wOut.Close()
	wErr.Close()
	wg.Wait()
	os.Stdout, os.Stderr = oldOut, oldErr
	return code, out.String(), errb.String()
}

var (
	realDir  = filepath.Join("..", "..", "internal", "spec", "testdata", "real")
	examples = filepath.Join("..", "..", "examples")
)

func TestValidate(t *testing.T) {
	for _, p := range []string{
		filepath.Join(examples, "minimal", "environment.yml"),
		filepath.Join(examples, "azureml", "environment.yml"),
		filepath.Join(realDir, "azureml-examples", "docker-image-plus-conda.yml"),
		filepath.Join(realDir, "glioma-v1"),
	} {
		if code, out, errs := cli(t, "validate", p); code != 0 || !strings.Contains(out, "valid") {
			t.Errorf("validate %s: exit %d\n%s%s", p, code, out, errs)
		}
	}
	// pip lines are checked as the lock reads them: conda's "=" in a pip
	// list, as pip itself refuses it.
	mat := filepath.Join(realDir, "matsciml", "conda.yml")
	if code, _, errs := cli(t, "validate", mat); code != 1 || !strings.HasPrefix(errs, mat+":20:7: ") || !strings.Contains(errs, mat+":21:7: ") {
		t.Errorf("validate %s: exit %d, stderr %q", mat, code, errs)
	}
	bad := filepath.Join(realDir, "nam", "environment_gpu.yml")
	code, _, errs := cli(t, "validate", bad)
	if code != 1 || !strings.HasPrefix(errs, bad+":39:9: ") {
		t.Errorf("validate %s: exit %d, stderr %q", bad, code, errs)
	}
	code, out, _ := cli(t, "validate", "--json", bad)
	var res struct {
		Valid  bool
		Errors []struct {
			File      string
			Line, Col int
		}
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != 1 || res.Valid || len(res.Errors) != 1 || res.Errors[0].Line != 39 {
		t.Errorf("validate --json: exit %d, %v, %s", code, err, out)
	}
	if code, _, _ := cli(t, "validate"); code != 2 {
		t.Errorf("validate without FILE: exit %d, want 2", code)
	}
	if code, _, _ := cli(t, "validate", "no-such-file.yml"); code != 1 {
		t.Errorf("validate of a missing file: exit %d, want 1", code)
	}
}

// A curated-environment template pin ({{latest-pypi-version}}, left
// unexpanded) fails validate, hash and lint at its line, as the lock would.
func TestValidateTemplatePin(t *testing.T) {
	p := filepath.Join(t.TempDir(), "conda_dependencies.yaml")
	os.WriteFile(p, []byte("name: project_environment\ndependencies:\n  - python=3.10\n  - pip:\n    - azureml-core=={{latest-pypi-version}}\nchannels:\n  - conda-forge\n"), 0o644)
	for _, cmd := range []string{"validate", "hash", "lint"} {
		code, _, errs := cli(t, cmd, p)
		if code != 1 || !strings.HasPrefix(errs, p+`:5:7: pip requirement "azureml-core=={{latest-pypi-version}}": invalid specifier`) {
			t.Errorf("%s: exit %d, %q", cmd, code, errs)
		}
	}
}

// validate reports every independent problem of a definition in one run,
// each at its position, in the same order on stderr and in --json.
func TestValidateReportsEveryProblem(t *testing.T) {
	p := filepath.Join(t.TempDir(), "env.yml")
	os.WriteFile(p, []byte("base:\n  image: debian\nsteps:\n  - COPY missing.txt /x\nconda:\n  file: conda.yml\npip:\n  - -r extra.txt\n"), 0o644)
	want := []string{
		p + `:4:5: COPY source "missing.txt": no such file in the build context`,
		p + `:6:9: conda.file: cannot read "conda.yml": no such file or directory`,
		p + `:8:5: -r: cannot read "extra.txt": no such file or directory`,
	}
	code, out, errs := cli(t, "validate", p)
	if code != 1 || out != "" || errs != strings.Join(want, "\n")+"\n" {
		t.Errorf("validate: exit %d, stdout %q, stderr:\n%s", code, out, errs)
	}
	code, out, _ = cli(t, "validate", "--json", p)
	var res struct {
		Errors []struct {
			Line, Col int
		}
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != 1 || len(res.Errors) != 3 || res.Errors[0].Line != 4 || res.Errors[2].Line != 8 {
		t.Errorf("validate --json: exit %d, %v, %s", code, err, out)
	}
}
