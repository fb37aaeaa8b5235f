package hash

import (
	"testing"
	"testing/fstest"

	"github.com/envkit/envkit/internal/pypi/pypitest"
	"github.com/envkit/envkit/internal/spec"
)

// Constraint files and wheel files enter the hash by content: the same
// bytes under another name hash the same, a changed byte does not, and a
// constraint never hashes as the requirement it limits.
func TestPipFilesHashByContent(t *testing.T) {
	of := func(pip string, files fstest.MapFS) string {
		t.Helper()
		def, err := spec.Parse("env.yml", []byte("base: {image: debian:12}\nconda:\n  dependencies:\n    - python=3.11\n    - pip:\n"+pip), files)
		if err != nil {
			t.Fatal(err)
		}
		h, err := Of(def)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	whl := pypitest.Dist{Name: "x", Version: "1.0"}.Build()
	files := fstest.MapFS{
		"c.txt":                        {Data: []byte("numpy<2\n")},
		"pins/other.txt":               {Data: []byte("# moved\nnumpy <2\n")},
		"changed.txt":                  {Data: []byte("numpy<3\n")},
		"w/x-1.0-py3-none-any.whl":     {Data: whl},
		"moved/x-1.0-py3-none-any.whl": {Data: whl},
		"new/x-1.0-py3-none-any.whl":   {Data: pypitest.Dist{Name: "x", Version: "1.0", Files: map[string]string{"x/more.py": ""}}.Build()},
	}
	base := of("      - scipy\n      - -c c.txt\n", files)
	for pip, same := range map[string]bool{
		"      - -c pins/other.txt\n      - scipy\n": true,
		"      - scipy\n      - -c changed.txt\n":    false,
		"      - scipy\n      - numpy<2\n":           false,
		"      - scipy\n":                            false,
	} {
		if got := of(pip, files) == base; got != same {
			t.Errorf("%q: same hash %v, want %v", pip, got, same)
		}
	}
	wheel := of("      - ./w/x-1.0-py3-none-any.whl\n", files)
	if of("      - moved/x-1.0-py3-none-any.whl\n", files) != wheel {
		t.Error("a moved wheel changed the hash")
	}
	if of("      - new/x-1.0-py3-none-any.whl\n", files) == wheel {
		t.Error("a changed wheel kept the hash")
	}
}
