package matchspec

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// TestCanonicalGolden records the canonical form of every distinct depends
// and constrains string of conda-index4.json in testdata/index4.golden
// ("spec<TAB>canonical"), so a change to the printer shows as a diff on
// real data. Regenerate with go test -run CanonicalGolden -update.
func TestCanonicalGolden(t *testing.T) {
	seen := map[string]bool{}
	var lines []string
	for _, r := range loadRecords(t, "conda-index4.json") {
		for _, s := range append(slices.Clone(r.Depends), r.Constrains...) {
			if seen[s] {
				continue
			}
			seen[s] = true
			ms, err := Parse(s)
			if err != nil {
				t.Fatalf("Parse(%q): %v", s, err)
			}
			lines = append(lines, s+"\t"+ms.String())
		}
	}
	slices.Sort(lines)
	got := strings.Join(lines, "\n") + "\n"
	path := filepath.Join("testdata", "index4.golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		gotLines, wantLines := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := range min(len(gotLines), len(wantLines)) {
			if gotLines[i] != wantLines[i] {
				t.Fatalf("%s:%d: got %q, want %q (rerun with -update if intended)", path, i+1, gotLines[i], wantLines[i])
			}
		}
		t.Fatalf("%s: %d lines, want %d (rerun with -update if intended)", path, len(gotLines), len(wantLines))
	}
}
