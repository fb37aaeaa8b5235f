package repodata

import (
	"encoding/json"
	"testing"
)

// FuzzParse: no input panics the decoder, it never accepts what is not
// JSON, and what it accepts has a record per filename with that filename.
func FuzzParse(f *testing.F) {
	// Small seeds keep each run fast (the fuzzer stalls on the 13-25 kB
	// conformance files); those files are covered by the unit tests.
	f.Add([]byte(`{"info": {"subdir": "linux-64"}, "repodata_version": 1, "packages": {"foo-3.0.2-py36h1af98f8_3.tar.bz2": {"build": "py36h1af98f8_3", "build_number": 3, "depends": ["python >=3.6"], "constrains": ["bar <2"], "md5": "d65ab674acf3b7294ebacaec05fc5b54", "name": "foo", "size": 3960, "subdir": "linux-64", "timestamp": 1605781183227, "version": "3.0.2"}}, "packages.conda": {"foo-3.0.2-py36h1af98f8_3.conda": {"name": "foo", "version": "3.0.2", "build": "py36h1af98f8_3", "license": "BSD"}}}`))
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
