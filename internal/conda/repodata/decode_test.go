package repodata

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/envkit/envkit/internal/conformance"
)

// reference decodes repodata with encoding/json and Record.UnmarshalJSON,
// an implementation independent of the decoder, and applies the same
// selection rules: filename → record of what Parse must return.
func reference(t testing.TB, data []byte) map[string]Record {
	t.Helper()
	var doc struct {
		Packages      map[string]Record `json:"packages"`
		PackagesConda map[string]Record `json:"packages.conda"`
		Removed       []string          `json:"removed"`
		Info          json.RawMessage   `json:"info"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Packages == nil && doc.PackagesConda == nil && doc.Info == nil {
		if err := json.Unmarshal(data, &doc.Packages); err != nil { // the flat test index
			t.Fatal(err)
		}
	}
	out := map[string]Record{}
	for fn, r := range doc.Packages {
		if _, dup := doc.PackagesConda[strings.TrimSuffix(fn, ".tar.bz2")+".conda"]; !dup {
			out[fn] = r
		}
	}
	for fn, r := range doc.PackagesConda {
		out[fn] = r
	}
	for _, fn := range doc.Removed {
		delete(out, fn)
	}
	return out
}

func TestDecoderMatchesEncodingJSON(t *testing.T) {
	for _, c := range conformanceFiles {
		t.Run(c.file, func(t *testing.T) {
			data, err := os.ReadFile(conformance.Dir(t, "repodata", c.file))
			if err != nil {
				t.Fatal(err)
			}
			rd, err := Parse(c.channel, c.subdir, data)
			if err != nil {
				t.Fatal(err)
			}
			want := reference(t, data)
			if len(rd.Records) != len(want) {
				t.Fatalf("%d records, encoding/json gives %d", len(rd.Records), len(want))
			}
			for _, got := range rd.Records {
				w, ok := want[got.Filename]
				if !ok {
					t.Fatalf("%s: not in encoding/json's result", got.Filename)
				}
				w.Filename, w.URL, w.Channel = got.Filename, got.URL, got.Channel
				if w.Subdir == "" {
					w.Subdir = got.Subdir
				}
				if !reflect.DeepEqual(got, w) {
					t.Fatalf("%s:\n decoder       %+v\n encoding/json %+v", got.Filename, got, w)
				}
			}
		})
	}
}

func TestDecoderStrings(t *testing.T) {
	for _, s := range []string{
		`"plain"`, `"tab\there"`, `"\u00e9\u4e2d"`, `"\ud83d\ude00"`, `"\ud83d"`, `"\ud83dx"`, `"\ud83d\u0041"`,
		`"\/\\\"\b\f\n\r"`, "\"bad \xff utf8\"", "\"caf\xc3\xa9\"",
	} {
		var want string
		if err := json.Unmarshal([]byte(s), &want); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		got, err := newDecoder([]byte(s)).str()
		if err != nil || got != want {
			t.Errorf("%s: %q, %v; encoding/json %q", s, got, err, want)
		}
	}
	for _, s := range []string{`"\x"`, `"\u12"`, "\"a\nb\"", `"open`, `"\`} {
		if got, err := newDecoder([]byte(s)).str(); err == nil {
			t.Errorf("%s accepted as %q", s, got)
		}
	}
}

func TestDecoderRejectsInvalidJSON(t *testing.T) {
	for _, in := range []string{
		`{"packages": {"a-1-0.tar.bz2": {"name": "a", "extra": [1, 2,]}}}`,
		`{"packages": {}} trailing`,
		`{"packages": {"a-1-0.tar.bz2": {"size": 1.5}}}`,
		`{"packages": {"a-1-0.tar.bz2": {"build_number": "3"}}}`,
		`{"packages": {"a-1-0.tar.bz2": {"name": "a", "x": tru}}}`,
		`{"info": {"subdir": 3}}`,
		`{"removed": "a"}`,
		`{"x": -}`,
		`{"x": 1.}`,
		`{"x": 01}`,
		`[]`,
	} {
		if _, err := Parse("https://x/c", "noarch", []byte(in)); err == nil {
			t.Errorf("accepted %s", in)
		}
	}
}
