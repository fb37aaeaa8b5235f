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
		"conda.yml":        {Data: []byte("channels: [conda-forge]\ndependencies: [python=3.12, {pip: [rich]}]\n")},
		"Dockerfile":       {Data: []byte("FROM debian:12\nCOPY conda.yml /\n")},
		"requirements.txt": {Data: []byte("numpy==2.0\n-r conda.yml\n")},
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
		out, _, err := Write(def, FormatNative, false)
		if err != nil {
			t.Fatalf("write: %v", err)
		}
		if _, err := Parse("out.yml", out, files); err != nil {
			t.Fatalf("written definition does not read back: %v\n%s", err, out)
		}
	})
}
