package install

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/envkit/envkit/internal/conformance"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/prefix-records.golden")

// TestPrefixRecordBytes pins the conda-meta bytes linking writes for real
// packages — with and without the channel's record, with features,
// track_features, run_constrained, noarch python and a conda-forge package
// with a licence and placeholders — so that the record's Go shape can
// change while the file conda, micromamba and rattler read cannot.
func TestPrefixRecordBytes(t *testing.T) {
	recs := channelRecords(t, "test-recipes", "noarch")
	dest := t.TempDir()
	for _, fn := range []string{
		"dependent-1.0-0.conda", "feature-1.0-track_feature1_0.conda", "track_feature-1.0-0.conda",
		"run_constrained-1.0-0.conda", "sample_noarch_python-1.0-py_0.conda", "python-3.99.99-0.conda",
	} {
		r := recs[fn]
		if _, err := Link(strings.TrimPrefix(r.URL, "file://"), dest, Options{Prefix: "/opt/conda", Record: r, RequestedSpec: r.Name, Python: &Python{Version: "3.99"}}); err != nil {
			t.Fatalf("%s: %v", fn, err)
		}
	}
	// No channel record: info/index.json alone.
	if _, err := Link(conformance.Dir(t, "packages", "rattler", "ca-certificates-2024.7.4-hbcca054_0.conda"), dest, Options{Prefix: "/opt/conda"}); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(dest, "conda-meta", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	var got bytes.Buffer
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// Read back and written again, a record keeps its bytes.
		var r PrefixRecord
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		if again, err := r.encode(); err != nil || !bytes.Equal(again, b) {
			t.Errorf("%s: read and written again: %v\n%s", filepath.Base(f), err, again)
		}
		got.WriteString("== " + filepath.Base(f) + "\n")
		got.Write(bytes.ReplaceAll(b, []byte(conformance.Dir(t)), []byte("$CONFORMANCE")))
	}
	golden := filepath.Join("testdata", "prefix-records.golden")
	if *updateGolden {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("conda-meta records differ from %s (go test -run TestPrefixRecordBytes -update after checking why):\n%s", golden, got.Bytes())
	}
}
