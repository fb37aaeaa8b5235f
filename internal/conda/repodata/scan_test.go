package repodata

import (
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/envkit/envkit/internal/conformance"
)

// scanAll is ScanMirrored then Records of every name.
func scanAll(channel, location, subdir string, data []byte) ([]Record, error) {
	s, err := ScanMirrored(channel, location, subdir, data)
	if err != nil {
		return nil, err
	}
	return s.Records(s.strs) // every name is among the interned strings
}

// TestScanMatchesParse: on every conformance file the two passes give
// ParseMirrored's records, for all names and for a subset, and Depends
// lists what those records depend on.
func TestScanMatchesParse(t *testing.T) {
	for _, c := range conformanceFiles {
		t.Run(c.file, func(t *testing.T) {
			data, err := os.ReadFile(conformance.Dir(t, "repodata", c.file))
			if err != nil {
				t.Fatal(err)
			}
			rd, err := ParseMirrored(c.channel, "https://mirror/x", c.subdir, data)
			if err != nil {
				t.Fatal(err)
			}
			all, err := scanAll(c.channel, "https://mirror/x", c.subdir, data)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(all, rd.Records) {
				t.Fatalf("scan gives %d records, Parse %d, or they differ", len(all), len(rd.Records))
			}
			s, err := ScanMirrored(c.channel, "https://mirror/x", c.subdir, data)
			if err != nil {
				t.Fatal(err)
			}
			// Every third name.
			var names []string
			want := map[string][]string{} // name → its records' depends
			for _, r := range rd.Records {
				want[r.Name] = append(want[r.Name], r.Depends...)
			}
			for name := range want {
				names = append(names, name)
			}
			slices.Sort(names)
			var subset []string
			for i := 0; i < len(names); i += 3 {
				subset = append(subset, names[i])
			}
			got, err := s.Records(subset)
			if err != nil {
				t.Fatal(err)
			}
			wantRecs := slices.DeleteFunc(slices.Clone(rd.Records), func(r Record) bool { return !slices.Contains(subset, r.Name) })
			if !reflect.DeepEqual(got, wantRecs) {
				t.Fatalf("Records(%d names): %d records, want %d", len(subset), len(got), len(wantRecs))
			}
			for _, name := range names {
				deps := s.Depends(name)
				wantDeps := slices.Compact(slices.Sorted(slices.Values(want[name])))
				gotDeps := slices.Sorted(slices.Values(deps))
				// Depends may hold more: records a .conda replaced or
				// the channel removed still count.
				for _, d := range wantDeps {
					if !slices.Contains(gotDeps, d) {
						t.Fatalf("Depends(%s) = %q lacks %q", name, deps, d)
					}
				}
				if len(slices.Compact(gotDeps)) != len(deps) {
					t.Fatalf("Depends(%s) = %q repeats a spec", name, deps)
				}
			}
			if s.Depends("no-such-package") != nil {
				t.Fatal("Depends of a missing name")
			}
		})
	}
}

// TestScanErrors: errors in the records read are Parse's, with LINE:COL;
// a record of a name not asked for is only checked for syntax.
func TestScanErrors(t *testing.T) {
	doc := `{"packages": {
"a-1-0.tar.bz2": {"name": "a", "build_number": "one", "depends": ["b"]},
"b-1-0.tar.bz2": {"name": "b", "version": "1"}}}`
	s, err := ScanMirrored("https://x/c", "https://x/c", "linux-64", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if recs, err := s.Records([]string{"b"}); err != nil || len(recs) != 1 || recs[0].Filename != "b-1-0.tar.bz2" {
		t.Fatalf("Records(b) = %v, %v", recs, err)
	}
	_, perr := Parse("https://x/c", "linux-64", []byte(doc))
	_, serr := s.Records([]string{"a"})
	if perr == nil || serr == nil || perr.Error() != serr.Error() || !strings.HasPrefix(serr.Error(), "2:") {
		t.Fatalf("Records(a) error %v, Parse's %v", serr, perr)
	}
	for _, bad := range []string{
		`{"packages": {"a-1-0.tar.bz2": {"name": "a",}}}`,
		`{"packages": {"a-1-0.txt": {"name": "a"}}}`,
		`{"packages": {"a-1-0.tar.bz2": {"name": "a", "depends": "b"}}}`,
		`{"packages": {}} x`,
	} {
		_, perr := Parse("https://x/c", "linux-64", []byte(bad))
		_, serr := ScanMirrored("https://x/c", "https://x/c", "linux-64", []byte(bad))
		if perr == nil || serr == nil || perr.Error() != serr.Error() {
			t.Errorf("%s: scan error %v, Parse's %v", bad, serr, perr)
		}
	}
}

// FuzzScan: the two passes over all names accept exactly what Parse
// accepts and give its records; errors are Parse's.
func FuzzScan(f *testing.F) {
	f.Add([]byte(`{"info": {"subdir": "linux-64"}, "repodata_version": 1, "packages": {"foo-3.0.2-py36h1af98f8_3.tar.bz2": {"build": "py36h1af98f8_3", "build_number": 3, "depends": ["python >=3.6"], "constrains": ["bar <2"], "md5": "d65ab674acf3b7294ebacaec05fc5b54", "name": "foo", "size": 3960, "subdir": "linux-64", "timestamp": 1605781183227, "version": "3.0.2"}}, "packages.conda": {"foo-3.0.2-py36h1af98f8_3.conda": {"name": "foo", "version": "3.0.2", "build": "py36h1af98f8_3", "license": "BSD"}}}`))
	f.Add([]byte(`{"a-1-0.tar.bz2": {"name": "a", "noarch": true, "track_features": "x,y", "timestamp": 1e9}}`))
	f.Add([]byte(`{"info": {"base_url": "../x"}, "packages.conda": {"a-1-0.conda": null}, "removed": ["b"]}`))
	f.Add([]byte(`{"packages": {"\u00e9-1-0.tar.bz2": {"name": "\u00e9", "depends": ["\ud83d\ude00", null], "depends": ["x"], "record_version": 2}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rd, perr := ParseMirrored("https://x/c", "https://m/c", "linux-64", data)
		recs, serr := scanAll("https://x/c", "https://m/c", "linux-64", data)
		switch {
		case (perr == nil) != (serr == nil):
			t.Fatalf("Parse error %v, scan error %v", perr, serr)
		case perr != nil:
			return
		}
		if len(recs) == 0 && len(rd.Records) == 0 {
			return
		}
		if !reflect.DeepEqual(recs, rd.Records) {
			t.Fatalf("scan gives %+v, Parse %+v", recs, rd.Records)
		}
	})
}

// BenchmarkScan is the first pass alone (names and depends of every
// record), against BenchmarkParse's whole decoding of the same files.
func BenchmarkScan(b *testing.B) {
	benchmarkFiles(b, func(b *testing.B, data []byte) {
		if _, err := ScanMirrored("https://conda.anaconda.org/c", "https://conda.anaconda.org/c", "linux-64", data); err != nil {
			b.Fatal(err)
		}
	})
}
