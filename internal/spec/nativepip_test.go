package spec

import (
	"testing"
	"testing/fstest"
)

// A native definition's top-level pip: list reads -r and -c files and
// wheel files as a conda file's pip part does (docs/environment-yaml.md).
func TestNativePipReadsFiles(t *testing.T) {
	files := fstest.MapFS{
		"c.txt":                         {Data: []byte("numpy<2\n")},
		"reqs.txt":                      {Data: []byte("rich\n")},
		"wheels/x-1.0-py3-none-any.whl": {Data: testWheel("x", "1.0")},
	}
	def, err := Parse("env.yml", []byte("base:\n  image: debian\nconda:\n  dependencies:\n    - python=3.11\npip:\n  - -c c.txt\n  - -r reqs.txt\n  - ./wheels/x-1.0-py3-none-any.whl\n  - numpy\n"), files)
	if err != nil {
		t.Fatal(err)
	}
	var constraints, wheels int
	var specs []string
	for _, q := range def.Pip {
		switch {
		case q.Constraint:
			constraints++
		case q.Wheel != nil:
			wheels++
		default:
			specs = append(specs, q.Spec)
		}
	}
	if constraints != 1 || wheels != 1 || len(specs) != 2 || specs[0] != "rich" || specs[1] != "numpy" {
		t.Errorf("pip lines %+v", def.Pip)
	}
}
