package matchspec

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/envkit/envkit/internal/conda/version"
	"github.com/envkit/envkit/internal/conformance"
)

// loadRecords reads one conformance repodata file.
func loadRecords(tb testing.TB, file string) []repodata.Record {
	tb.Helper()
	data, err := os.ReadFile(conformance.Dir(tb, "repodata", file))
	if err != nil {
		tb.Fatal(err)
	}
	rd, err := repodata.Parse("https://conda.anaconda.org/test", "linux-64", data)
	if err != nil {
		tb.Fatalf("%s: %v", file, err)
	}
	return rd.Records
}

// TestConformanceDepends parses every depends and constrains string of
// every conformance repodata file, checks its canonical form reads back to
// the same text, and that both forms accept the same records of that name.
func TestConformanceDepends(t *testing.T) {
	files, err := filepath.Glob(conformance.Dir(t, "repodata", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no repodata files: %v", err)
	}
	for _, path := range files {
		records := loadRecords(t, filepath.Base(path))
		byName := map[string][]int{}
		versions := make([]version.Version, len(records))
		for i := range records {
			byName[records[i].Name] = append(byName[records[i].Name], i)
			versions[i], _ = version.Parse(records[i].Version)
		}
		seen := map[string]bool{}
		for _, r := range records {
			for _, s := range append(append([]string(nil), r.Depends...), r.Constrains...) {
				if seen[s] {
					continue
				}
				seen[s] = true
				ms, err := Parse(s)
				if err != nil {
					t.Errorf("%s: %s: %v", filepath.Base(path), r.Filename, err)
					continue
				}
				canon := ms.String()
				again, err := Parse(canon)
				if err != nil {
					t.Errorf("%s: %q canonical %q: %v", filepath.Base(path), s, canon, err)
					continue
				}
				if again.String() != canon {
					t.Errorf("%s: %q canonical %q reads back as %q", filepath.Base(path), s, canon, again.String())
				}
				for _, i := range byName[ms.Name] {
					if ms.MatchesParsed(&records[i], versions[i]) != again.MatchesParsed(&records[i], versions[i]) {
						t.Errorf("%q and its canonical %q disagree on %s", s, canon, &records[i])
					}
				}
			}
		}
		t.Logf("%s: %d records, %d distinct specs", filepath.Base(path), len(records), len(seen))
	}
}
