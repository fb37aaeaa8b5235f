package repodata

import (
	"os"
	"strings"
	"testing"

	"github.com/envkit/envkit/internal/conformance"
)

// conformanceFiles maps every file of conformance/repodata to the channel
// and subdir it stands for and the records it must yield.
var conformanceFiles = []struct {
	file, channel, subdir string
	records               int
}{
	{"anaconda-main_noarch.json", "https://conda.anaconda.org/main", "noarch", 322},
	{"anaconda-r_linux-64.json", "https://conda.anaconda.org/r", "linux-64", 4211},
	{"conda-forge-numpy_linux-64.json", "https://conda.anaconda.org/conda-forge", "linux-64", 33}, // libffi-3.4.2-h7f98852_5: .conda replaces .tar.bz2
	{"conda-index.json", "https://conda.anaconda.org/channel-1", "linux-64", 1149},
	{"conda-index4.json", "https://conda.anaconda.org/channel-4", "linux-64", 5643},
	{"pytorch_linux-64.json", "https://conda.anaconda.org/pytorch", "linux-64", 2181},
	{"rattler-dummy_linux-64.json", "https://conda.anaconda.org/dummy", "linux-64", 25}, // 4 .tar.bz2 replaced by .conda
	{"sudoku.json", "https://conda.anaconda.org/jjhelmus/label/sudoku", "noarch", 729},
}

func TestParseConformance(t *testing.T) {
	entries, err := os.ReadDir(conformance.Dir(t, "repodata"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(conformanceFiles) {
		t.Errorf("conformance/repodata has %d files, the test knows %d: add the new ones", len(entries), len(conformanceFiles))
	}
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
			if c.records > 0 && len(rd.Records) != c.records {
				t.Errorf("%d records, want %d", len(rd.Records), c.records)
			}
			for i := range rd.Records {
				r := &rd.Records[i]
				if r.Name == "" || r.Version == "" || r.Subdir == "" || r.Filename == "" {
					t.Fatalf("incomplete record %+v", r)
				}
				if r.Channel != c.channel {
					t.Fatalf("%s: channel %q", r.Filename, r.Channel)
				}
				if !strings.HasSuffix(r.URL, "/"+r.Filename) || !strings.HasPrefix(r.URL, "https://") {
					t.Fatalf("%s: url %q", r.Filename, r.URL)
				}
			}
		})
	}
}

func TestParseDummyBaseURLAndConda(t *testing.T) {
	data, err := os.ReadFile(conformance.Dir(t, "repodata", "rattler-dummy_linux-64.json"))
	if err != nil {
		t.Fatal(err)
	}
	rd, err := ParseMirrored("https://conda.anaconda.org/dummy", "file:///channels/dummy", "linux-64", data)
	if err != nil {
		t.Fatal(err)
	}
	byFn := map[string]*Record{}
	for i := range rd.Records {
		byFn[rd.Records[i].Filename] = &rd.Records[i]
	}
	if r := byFn["foo-3.0.2-py36h1af98f8_3.conda"]; r == nil || r.Channel != "https://conda.anaconda.org/dummy" || r.MD5 == "" {
		t.Errorf("foo-3.0.2-py36h1af98f8_3.conda: %+v", r)
	}
	if _, ok := byFn["bors-1.1-bla_1.tar.bz2"]; ok {
		t.Error("bors-1.1-bla_1.tar.bz2 kept although packages.conda has bors-1.1-bla_1.conda")
	}
	r := byFn["bors-1.1-bla_1.conda"]
	if r == nil {
		t.Fatal("bors-1.1-bla_1.conda missing")
	}
	// info.base_url is "../linux-64", relative to .../linux-64/repodata.json.
	if want := "file:///channels/dummy/linux-64/bors-1.1-bla_1.conda"; r.URL != want {
		t.Errorf("url %q, want %q", r.URL, want)
	}
}

func TestParseRemovedAndFlatSubdirs(t *testing.T) {
	data, err := os.ReadFile(conformance.Dir(t, "repodata", "anaconda-r_linux-64.json"))
	if err != nil {
		t.Fatal(err)
	}
	rd, err := Parse("https://conda.anaconda.org/r", "linux-64", data)
	if err != nil {
		t.Fatal(err)
	}
	if len(rd.Removed) != 1 || rd.Removed[0] != "r-nloptr-1.0.4-r3.2.2_1.tar.bz2" {
		t.Errorf("removed = %v", rd.Removed)
	}
	data, err = os.ReadFile(conformance.Dir(t, "repodata", "conda-index4.json"))
	if err != nil {
		t.Fatal(err)
	}
	rd, err = Parse("https://conda.anaconda.org/channel-4", "linux-64", data)
	if err != nil {
		t.Fatal(err)
	}
	subdirs := map[string]int{}
	for _, r := range rd.Records {
		subdirs[r.Subdir]++
		if r.URL != r.Channel+"/"+r.Subdir+"/"+r.Filename {
			t.Fatalf("url %q", r.URL)
		}
	}
	if subdirs["noarch"] == 0 || subdirs["linux-64"] == 0 {
		t.Errorf("flat index subdirs %v, want noarch and linux-64", subdirs)
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"{\n  \"packages\": {\"a-1-0.tar.bz2\": {\"name\": 3}}}", "2:"},
		{"{\"packages\": {", "1:"},
		{"{\"a-1-0.tar.bz2\": {\"name\": \"a\"}, \"foo\": {}}", `key "foo" is not a package filename`},
		{"{\"packages\": {\"a-1-0.tar.bz2\": {\"name\": \"a\", \"noarch\": 3}}}", "package a-1-0.tar.bz2: noarch"},
	} {
		_, err := Parse("https://x/c", "noarch", []byte(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%s) = %v, want an error containing %q", c.in, err, c.want)
		}
	}
	rd, err := Parse("https://x/c", "noarch", []byte(" { } "))
	if err != nil || len(rd.Records) != 0 || rd.Info.Subdir != "noarch" {
		t.Errorf("empty repodata: %+v, %v", rd, err)
	}
}

func TestParseWithoutSubdir(t *testing.T) {
	data, err := os.ReadFile(conformance.Dir(t, "repodata", "conda-forge-numpy_linux-64.json"))
	if err != nil {
		t.Fatal(err)
	}
	// Fetched from linux-64/: every archive lives there, whatever its subdir.
	rd, err := Parse("https://x/c", "linux-64", data)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rd.Records {
		if !strings.HasPrefix(r.URL, "https://x/c/linux-64/") {
			t.Fatalf("%s: %s", r.Filename, r.URL)
		}
	}
	// Location unknown: each record's own subdir places it.
	if rd, err = Parse("https://x/c", "", data); err != nil {
		t.Fatal(err)
	}
	for _, r := range rd.Records {
		if r.URL != "https://x/c/"+r.Subdir+"/"+r.Filename {
			t.Fatalf("%s: %s", r.Filename, r.URL)
		}
	}
}

func TestParseSkipsNewerRecordVersions(t *testing.T) {
	rd, err := Parse("https://x/c", "noarch", []byte(`{"packages": {
		"a-1-0.tar.bz2": {"name": "a", "version": "1", "build": "0", "record_version": 1},
		"b-1-0.tar.bz2": {"name": "b", "version": "1", "build": "0", "record_version": 2}}}`))
	if err != nil || len(rd.Records) != 1 || rd.Records[0].Name != "a" {
		t.Fatalf("%+v, %v", rd, err)
	}
}
