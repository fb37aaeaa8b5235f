package lint

import (
	"testing"
	"testing/fstest"

	"github.com/envkit/envkit/internal/pypi/pypitest"
	"github.com/envkit/envkit/internal/spec"
)

// A requirement whose version a -c file bounds is pinned; a constraint
// line is never an unpinned requirement itself, nor is a wheel file.
func TestConstraintsPin(t *testing.T) {
	files := fstest.MapFS{
		"c.txt":                    {Data: []byte("numpy<2\nrequests; python_version > \"3\"\n")},
		"w/x-1.0-py3-none-any.whl": {Data: pypitest.Dist{Name: "x", Version: "1.0"}.Build()},
	}
	def, err := spec.Parse("env.yml", []byte("base: {image: debian:12}\nconda:\n  channels: [conda-forge]\n  dependencies:\n    - python=3.11\n    - pip=24.0\n    - pip:\n      - -c c.txt\n      - numpy\n      - requests\n      - ./w/x-1.0-py3-none-any.whl\n"), files)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range Check(def) {
		got = append(got, f.Pos.String()+" "+f.Rule)
	}
	if len(got) != 1 || got[0] != "env.yml:10:9 "+RuleUnpinnedPip {
		t.Errorf("findings %q, want requests (its constraint has no version) only", got)
	}
}
