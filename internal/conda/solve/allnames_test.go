package solve

import (
	"errors"
	"testing"
)

// TestSolveEveryName solves each package name of the conformance channels
// on its own (every 25th name unless -allnames) and checks every
// solution independently; an unsatisfiable name must come with an
// explanation.
func TestSolveEveryName(t *testing.T) {
	for _, files := range [][]string{
		{"conda-index.json"},
		{"conda-index4.json"},
		{"anaconda-r_linux-64.json", "conda-index4.json"},
		{"pytorch_linux-64.json", "conda-index4.json"},
		{"anaconda-main_noarch.json", "conda-index4.json"},
		{"conda-forge-numpy_linux-64.json"},
		{"rattler-dummy_linux-64.json"},
	} {
		solveEveryName(t, files...)
	}
}

func solveEveryName(t *testing.T, files ...string) {
	ix := loadIndex(t, files...)
	solved, refuted := 0, 0
	for i, name := range ix.Names() {
		if i%25 != 0 && !*allNames {
			continue
		}
		got, _, err := Solve(ix, []string{name}, Options{Platform: "linux-64"})
		var ue *UnsatisfiableError
		switch {
		case errors.As(err, &ue):
			if len(ue.Steps) == 0 {
				t.Errorf("%s: empty explanation", name)
			}
			refuted++
		case err != nil:
			t.Errorf("%s: %v", name, err)
		default:
			for _, p := range checkSolution(got, []string{name}) {
				t.Errorf("%s: %s", name, p)
			}
			solved++
		}
	}
	t.Logf("%v: %d solved, %d refuted with an explanation", files, solved, refuted)
}
