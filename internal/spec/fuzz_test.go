package spec

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// FuzzParse feeds arbitrary bytes to every reader (the name picks YAML or
// requirements.txt). No input may panic; an accepted definition must
// survive a write to envkit YAML and a read back.
func FuzzParse(f *testing.F) {
	filepath.WalkDir("testdata", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasSuffix(p, ".md") {
			if data, err := os.ReadFile(p); err == nil {
				f.Add(filepath.Base(p), data)
			}
		}
		return nil
	})
	files := fstest.MapFS{
		"conda.yml":              {Data: []byte("channels: [conda-forge]\ndependencies: [python=3.12, {pip: [rich]}]\n")},
		"Dockerfile":             {Data: []byte("FROM debian:12\nCOPY conda.yml /\n")},
		"requirements.txt":       {Data: []byte("numpy==2.0\n-r conda.yml\n")},
		"constraints.txt":        {Data: []byte("numpy<3\n-c constraints.txt\n")},
		"x-1.0-py3-none-any.whl": {Data: testWheel("x", "1.0")},
	}
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		if strings.ContainsAny(name, "/\\") || name == "" || name == "." || name == ".." {
			name = "env.yml"
		}
		def, err := Parse(name, data, files)
		if err != nil {
			if _, ok := err.(ErrorList); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if writablePip(def) != nil {
			return // constraints have no form of their own in a pip list
		}
		out, _, err := Write(def, FormatNative, false)
		if err != nil {
			t.Fatalf("write: %v", err)
		}
		if _, err := Parse("out.yml", out, files); err != nil {
			t.Fatalf("written definition does not read back: %v\n%s", err, out)
		}
	})
}

// FuzzMLflow feeds arbitrary bytes to the python_env.yaml reader (the
// format forced, as envkit init --from-mlflow does), with a requirements.txt
// beside it. No input may panic; an accepted file holds exactly one conda
// dependency (python) and survives a write to envkit YAML and a read back
// unchanged.
func FuzzMLflow(f *testing.F) {
	for _, dir := range []string{"mlflow-sklearn", "mlflow-langchain"} {
		if data, err := os.ReadFile(filepath.Join("testdata", "real", dir, MLflowFile)); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("python: '3.11'\ndependencies: [numpy==2.0, -r requirements.txt, --index-url https://x/simple]\n"))
	f.Add([]byte("build_dependencies: [pip]\n"))
	files := fstest.MapFS{
		"requirements.txt": {Data: []byte("numpy==2.0\nrich; python_version >= \"3.8\"\n")},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		def, err := ParseAs(MLflowFile, data, files, FormatMLflow)
		if err != nil {
			if _, ok := err.(ErrorList); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if def.Source.Format != FormatMLflow || def.Conda == nil || len(def.Conda.Dependencies) != 1 || !strings.HasPrefix(def.Conda.Dependencies[0].Spec, "python=") {
			t.Fatalf("accepted as %s with conda %+v", def.Source.Format, def.Conda)
		}
		if writablePip(def) != nil {
			return // constraints have no form of their own in a pip list
		}
		out, _, err := Write(def, FormatNative, false)
		if err != nil {
			t.Fatalf("write: %v", err)
		}
		back, err := Parse("out.yml", out, files)
		if err != nil {
			t.Fatalf("written definition does not read back: %v\n%s", err, out)
		}
		if a, b := comparable(t, def), comparable(t, back); a != b {
			t.Fatalf("changed by a native round trip:\n%s\n%s\n%s", out, a, b)
		}
	})
}
