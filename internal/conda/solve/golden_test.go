package solve

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var (
	update   = flag.Bool("update", false, "rewrite the golden files under testdata/")
	allNames = flag.Bool("allnames", false, "TestSolveEveryName: every name, not a sample")
)

// TestExplanationsGolden keeps the full text of explanations for real
// unsatisfiable requests, so a change in wording or in the core found shows
// up as a diff to review (go test -run Golden -update rewrites it).
func TestExplanationsGolden(t *testing.T) {
	var b strings.Builder
	add := func(title string, err error) {
		b.WriteString("## " + title + "\n")
		if err == nil {
			b.WriteString("(solved)\n\n")
			return
		}
		b.WriteString(err.Error() + "\n\n")
	}
	idx1 := condaIndex1(t)
	_, _, err := Solve(idx1, []string{"numpy 1.5*", "scipy 0.12.0b1"}, Options{Platform: "linux-64"})
	add("conda-index.json: numpy 1.5* scipy 0.12.0b1 (conda test_unsat_from_r1)", err)
	_, _, err = Solve(idx1, []string{"numpy 1.5*", "python 3*"}, Options{Platform: "linux-64"})
	add("conda-index.json: numpy 1.5* python 3* (conda test_unsat_from_r1)", err)
	idx4 := loadIndex(t, "conda-index4.json")
	_, _, err = Solve(idx4, []string{"pandas 0.23.4", "numpy 1.9*"}, Options{Platform: "linux-64"})
	add("conda-index4.json: pandas 0.23.4 numpy 1.9*", err)
	_, _, err = Solve(loadIndex(t, "pytorch_linux-64.json", "conda-index4.json"), []string{"pytorch"}, Options{Platform: "linux-64"})
	add("pytorch channel + conda-index4.json: pytorch", err)
	recipes := testRecipes(t)
	_, _, err = Solve(recipes, []string{"unsatisfiable"}, Options{Platform: "linux-fake"})
	add("test-recipes: unsatisfiable", err)
	_, _, err = Solve(recipes, []string{"run_constrained", "dependent 1.0"}, Options{Platform: "linux-fake"})
	add("test-recipes: run_constrained dependent 1.0", err)

	path := filepath.Join("testdata", "explanations.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got := b.String(); got != string(want) {
		t.Errorf("explanations differ from %s (run with -update and review the diff):\n%s", path, got)
	}
}
