package repodata

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/envkit/envkit/internal/conformance"
)

// FuzzParse: no input panics the decoder, it never accepts what is not
// JSON, and what it accepts has a record per filename with that filename.
func FuzzParse(f *testing.F) {
	for _, file := range []string{"rattler-dummy_linux-64.json", "conda-forge-numpy_linux-64.json"} {
		data, err := os.ReadFile(conformance.Dir(f, "repodata", file))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"a-1-0.tar.bz2": {"name": "a", "noarch": true, "track_features": "x,y", "timestamp": 1e9}}`))
	f.Add([]byte(`{"info": {"base_url": "../x"}, "packages.conda": {"a-1-0.conda": null}, "removed": ["b"]}`))
	f.Add([]byte(`{"packages": {"\u00e9-1-0.tar.bz2": {"depends": ["\ud83d\ude00", null]}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rd, err := Parse("https://x/c", "linux-64", data)
		if err != nil {
			return
		}
		if !json.Valid(data) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		seen := map[string]bool{}
		for _, r := range rd.Records {
			if seen[r.Filename] || r.URL == "" || r.Channel != "https://x/c" {
				t.Fatalf("record %+v", r)
			}
			seen[r.Filename] = true
		}
	})
}
