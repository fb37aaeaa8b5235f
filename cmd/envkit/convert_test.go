package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/envkit/envkit/internal/pypi/pypitest"
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

// Every example and real file that validates, converted to Azure ML YAML
// (a conda file gets image: the base the hash uses, and its environment
// inline), validates and hashes the same, and so does its conversion back
// to native; a conda file also comes back as a conda file with the same
// hash. What azureml cannot hold is refused, and --lossy writes a file
// that validates.
func TestConvertAzureMLEveryFile(t *testing.T) {
	root := t.TempDir()
	// Copies, so outputs lie beside their sources (build contexts and
	// conda files stay inside the output's directory).
	for _, d := range []string{examples, realDir} {
		if err := os.CopyFS(filepath.Join(root, filepath.Base(d)), os.DirFS(d)); err != nil {
			t.Fatal(err)
		}
	}
	var srcs []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		switch {
		case err != nil:
			t.Fatal(err)
		case d.IsDir() && d.Name() == "glioma-v1":
			srcs = append(srcs, p) // a saved Azure ML v1 directory
			return filepath.SkipDir
		case strings.Contains(".yml .yaml .txt", filepath.Ext(p)) && filepath.Ext(p) != "":
			srcs = append(srcs, p)
		}
		return nil
	})
	converted := 0
	for _, src := range srcs {
		code, want, _ := cli(t, "hash", src)
		if code != 0 {
			continue // does not validate (nam: "-e ."), or a side file (SOURCES.md)
		}
		rel, _ := filepath.Rel(root, src)
		out := filepath.Join(sourceDir(src), "zz-"+strings.ReplaceAll(filepath.Base(src), ".", "-")+".azureml.yml")
		code, _, errs := cli(t, "convert", src, "--to", "azureml", "-o", out)
		if code != 0 {
			// Only fields Azure ML has no place for stop a conversion.
			if !strings.Contains(errs, "azureml cannot hold") {
				t.Errorf("%s: convert --to azureml: exit %d %s", rel, code, errs)
			}
			if code, _, errs = cli(t, "convert", src, "--to", "azureml", "--lossy", "-o", out); code != 0 {
				t.Errorf("%s: convert --lossy: exit %d %s", rel, code, errs)
			} else if code, _, errs = cli(t, "validate", out); code != 0 {
				t.Errorf("%s: the --lossy output does not validate: %s", rel, errs)
			}
			continue
		}
		converted++
		if code, _, errs := cli(t, "validate", out); code != 0 {
			t.Errorf("%s: the azureml output does not validate: %s", rel, errs)
		}
		if _, got, errs := cli(t, "hash", out); got != want {
			t.Errorf("%s → azureml: hash %q, want %q %s", rel, got, want, errs)
		}
		data, _ := os.ReadFile(out)
		if !strings.Contains(string(data), "\nimage: ") && !strings.Contains(string(data), "\nbuild:") {
			t.Errorf("%s → azureml has neither image nor build:\n%s", rel, data)
		}
		back := map[string][]string{"native": {"--to", "native"}}
		if code, format, _ := cli(t, "validate", "--json", src); code == 0 && strings.Contains(format, `"format": "conda"`) {
			back["conda"] = []string{"--to", "conda", "--lossy"} // drops the default image again
		}
		for to, flags := range back {
			again := out + "." + to + ".yml"
			if code, _, errs := cli(t, append([]string{"convert", out, "-o", again}, flags...)...); code != 0 {
				t.Errorf("%s → azureml → %s: exit %d %s", rel, to, code, errs)
				continue
			}
			if _, got, errs := cli(t, "hash", again); got != want {
				t.Errorf("%s → azureml → %s: hash %q, want %q %s", rel, to, got, want, errs)
			}
		}
	}
	t.Logf("%d of %d files converted to azureml without --lossy", converted, len(srcs))
	if converted < 11 {
		t.Errorf("only %d files converted to azureml", converted)
	}
}

// An inline Dockerfile has no place in Azure ML YAML, even with --lossy:
// an environment needs image or build.
func TestConvertAzureMLInlineDockerfile(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "env.yml")
	os.WriteFile(src, []byte("base:\n  dockerfile: |\n    FROM debian:12\n    RUN true\nconda:\n  dependencies: [python=3.12]\n"), 0o644)
	out := filepath.Join(dir, "az.yml")
	code, _, errs := cli(t, "convert", src, "--to", "azureml", "--lossy", "-o", out)
	if code != 1 || !strings.Contains(errs, "inline base.dockerfile") {
		t.Errorf("exit %d %q", code, errs)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("%s written", out)
	}
}

// A wheel file beside the definition is named from where the output is
// written, and hashes the same there; one the output cannot name (a wheel
// is read from inside the definition's directory only) is an error naming
// it, and nothing is written.
func TestConvertMovesWheelFiles(t *testing.T) {
	dir := t.TempDir()
	proj := filepath.Join(dir, "proj")
	if err := os.MkdirAll(filepath.Join(proj, "wheels"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(proj, "wheels", "x-1.0-py3-none-any.whl"), pypitest.Dist{Name: "x", Version: "1.0"}.Build(), 0o644); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(proj, "environment.yml")
	if err := os.WriteFile(src, []byte("channels: [conda-forge]\ndependencies:\n  - python=3.11\n  - pip:\n    - ./wheels/x-1.0-py3-none-any.whl\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, want, _ := cli(t, "hash", src)
	for _, to := range []string{"native", "azureml"} {
		out := filepath.Join(dir, to+".yml")
		if code, _, errs := cli(t, "convert", src, "--to", to, "-o", out); code != 0 {
			t.Fatalf("convert --to %s: exit %d %s", to, code, errs)
		}
		if b, _ := os.ReadFile(out); !strings.Contains(string(b), "proj/wheels/x-1.0-py3-none-any.whl") {
			t.Errorf("--to %s wrote:\n%s", to, b)
		}
		if _, got, errs := cli(t, "hash", out); got != want {
			t.Errorf("--to %s: hash %q, want %q %s", to, got, want, errs)
		}
	}
	inner := filepath.Join(proj, "out", "env.yml")
	if err := os.MkdirAll(filepath.Dir(inner), 0o755); err != nil {
		t.Fatal(err)
	}
	code, _, errs := cli(t, "convert", src, "--to", "native", "-o", inner)
	if code != 1 || !strings.Contains(errs, "environment.yml:5:7: the wheel file") || strings.Contains(errs, "please report") {
		t.Errorf("convert out of reach: exit %d, %q", code, errs)
	}
	if _, err := os.Stat(inner); !os.IsNotExist(err) {
		t.Errorf("a failed convert wrote %s", inner)
	}
}

// A saved Azure ML v1 environment converts to Azure ML v2 YAML unless it
// holds what v2 cannot: the refusal names the values and the flag that
// drops them, and the interpreter every v1 file saves ("python", which
// matters only for user-managed python) is no loss. The files are
// SlimCoF/BP_2's azureml_environment.json and conda_dependencies.yml
// @ 13fea48 (azureml-core's save_to_directory), shortened.
func TestConvertAzureMLv1(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "azureml_environment.json"), []byte(`{
    "name": "slimak-env",
    "version": null,
    "environmentVariables": {
        "EXAMPLE_ENV_VAR": "EXAMPLE_VALUE"
    },
    "python": {
        "userManagedDependencies": false,
        "interpreterPath": "python",
        "condaDependenciesFile": null,
        "baseCondaEnvironment": null
    },
    "docker": {
        "enabled": false,
        "baseImage": "mcr.microsoft.com/azureml/openmpi3.1.2-ubuntu18.04:20220208.v1",
        "baseDockerfile": null,
        "platform": {
            "os": "Linux",
            "architecture": "amd64"
        }
    }
}
`), 0o644)
	os.WriteFile(filepath.Join(dir, "conda_dependencies.yml"), []byte("name: project_environment\ndependencies:\n- python=3.8\n\n- pip:\n  - azureml-defaults\n  - pandas~=1.4.1\n- pip\nchannels:\n- anaconda\n- conda-forge\n"), 0o644)
	out := filepath.Join(dir, "v2.yml")
	code, _, errs := cli(t, "convert", dir, "--to", "azureml", "-o", out)
	if code != 1 || errs != "envkit: azureml cannot hold env (EXAMPLE_ENV_VAR), platforms (linux/amd64); convert to native, or drop them with --lossy\n" {
		t.Errorf("convert: exit %d, %q", code, errs)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a refused conversion wrote its output")
	}
	code, _, errs = cli(t, "convert", dir, "--to", "azureml", "--lossy", "-o", out)
	if code != 0 || errs != "envkit: dropped env (EXAMPLE_ENV_VAR): the azureml format has no place for it\nenvkit: dropped platforms (linux/amd64): the azureml format has no place for it\n" {
		t.Errorf("convert --lossy: exit %d, %q", code, errs)
	}
	if code, _, errs := cli(t, "validate", out); code != 0 {
		t.Errorf("the --lossy output does not validate: %s", errs)
	}
}
