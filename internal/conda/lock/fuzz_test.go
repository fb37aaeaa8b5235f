package lock

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzRead: no input panics the reader, and every lock it accepts writes
// out, reads back, and writes the same bytes again.
func FuzzRead(f *testing.F) {
	// Small seeds keep each run fast; the big real files are in the tests.
	for _, p := range []string{
		filepath.Join("testdata", "mamba-good_one_package_missing_category-lock.yaml"),
		filepath.Join("testdata", "mamba-bad_package-lock.yaml"),
		filepath.Join("testdata", "conda-lock-pip-deps-excerpt.yml"),
	} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("version: 1\nmetadata: {content_hash: {}, channels: [a], platforms: []}\npackage: &a []\n"))
	f.Add([]byte("version: 1\nmetadata: {content_hash: {}, channels: [], platforms: [p], custom_metadata: {'conda-sizes:p': 'a=12,b=3', x: y}}\n" +
		"package:\n- {name: a, version: '1', manager: conda, platform: p, url: 'https://c/p/a-1-0.conda', hash: {md5: x}, optional: false}\n" +
		"- {name: b, version: '1', manager: conda, platform: p, url: 'https://c/p/b-1-0.conda', hash: {md5: x}, category: dev, optional: false}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := Read("fuzz.yml", data)
		if err != nil {
			return
		}
		out, err := l.Marshal()
		if err != nil {
			t.Fatalf("accepted lock does not marshal: %v", err)
		}
		back, err := Read("marshalled.yml", out)
		if err != nil {
			t.Fatalf("marshalled lock does not read back: %v\n%s", err, out)
		}
		again, err := back.Marshal()
		if err != nil || !bytes.Equal(out, again) {
			t.Fatalf("marshalling is not stable: %v\n%s\n---\n%s", err, out, again)
		}
	})
}
