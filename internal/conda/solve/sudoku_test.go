package solve

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/envkit/envkit/internal/conformance"
)

// The conformance sudoku.json (from mamba's tests) constrains each cell
// against its row, its column and the diagonal box of its row band
// (sudoku_0_3 against sudoku_1_0 … sudoku_2_2) instead of its own box.
// Under that rule cell (0,3) differs from the 3 other cells of its row in
// that box and the 6 other cells of the box, which together hold all nine
// digits, so no grid exists: every full request is unsatisfiable, which the
// solver must prove. sudokuIndex keeps the file's records and rewrites the
// box part of each depends to the real box, giving the classic puzzle.
func sudokuIndex(tb testing.TB, fixBoxes bool) *repodata.Index {
	tb.Helper()
	data, err := os.ReadFile(conformance.Dir(tb, "repodata", "sudoku.json"))
	if err != nil {
		tb.Fatal(err)
	}
	rd, err := repodata.Parse("https://conda.example/sudoku", "noarch", data)
	if err != nil {
		tb.Fatal(err)
	}
	if fixBoxes {
		for i := range rd.Records {
			r := &rd.Records[i]
			var row, col int
			if _, err := fmt.Sscanf(r.Name, "sudoku_%d_%d", &row, &col); err != nil {
				tb.Fatalf("%s: %v", r.Name, err)
			}
			r.Depends = nil
			for _, peer := range peers(row, col) {
				r.Depends = append(r.Depends, fmt.Sprintf("sudoku_%d_%d !=%s", peer[0], peer[1], r.Version))
			}
		}
	}
	return repodata.NewIndex([]string{"https://conda.example/sudoku"}, rd.Records)
}

// peers are the 20 cells sharing a row, a column or a box with (row, col).
func peers(row, col int) [][2]int {
	var out [][2]int
	for r := range 9 {
		for c := range 9 {
			same := r == row || c == col || (r/3 == row/3 && c/3 == col/3)
			if same && (r != row || c != col) {
				out = append(out, [2]int{r, c})
			}
		}
	}
	return out
}

// sudokuSpecs asks for every cell, pinning the givens ("." is free).
func sudokuSpecs(puzzle string) []string {
	var specs []string
	for i, ch := range puzzle {
		name := fmt.Sprintf("sudoku_%d_%d", i/9, i%9)
		if ch == '.' {
			specs = append(specs, name)
		} else {
			specs = append(specs, fmt.Sprintf("%s ==%c", name, ch))
		}
	}
	return specs
}

var puzzles = map[string]string{
	"empty":     strings.Repeat(".", 81),
	"wikipedia": "53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79",
	// Arto Inkala's 2012 "world's hardest sudoku".
	"inkala": "8..........36......7..9.2...5...7.......457.....1...3...1....68..85...1..9....4..",
	// Peter Norvig's hard1, slow for plain backtracking.
	"norvig-hard1": "4.....8.5.3..........7......2.....6.....8.4......1.......6.3.7.5..2.....1.4......",
}

func TestSudoku(t *testing.T) {
	ix := sudokuIndex(t, true)
	for name, puzzle := range puzzles {
		t.Run(name, func(t *testing.T) {
			specs := sudokuSpecs(puzzle)
			got, _, err := Solve(ix, specs, Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range checkSolution(got, specs) {
				t.Error(p)
			}
			verifyGrid(t, puzzle, got)
		})
	}
}

// verifyGrid checks the solution as a sudoku, without MatchSpecs: 81 cells,
// givens kept, every row, column and box a permutation of 1–9.
func verifyGrid(t *testing.T, puzzle string, recs []*repodata.Record) {
	t.Helper()
	var grid [9][9]byte
	for _, r := range recs {
		var row, col int
		fmt.Sscanf(r.Name, "sudoku_%d_%d", &row, &col)
		grid[row][col] = r.Version[0]
	}
	for i := range 81 {
		if g := puzzle[i]; g != '.' && grid[i/9][i%9] != g {
			t.Errorf("cell %d,%d: given %c, got %c", i/9, i%9, g, grid[i/9][i%9])
		}
	}
	for k := range 9 {
		var row, col, box [10]bool
		for j := range 9 {
			for _, v := range []struct {
				seen *[10]bool
				d    byte
			}{{&row, grid[k][j]}, {&col, grid[j][k]}, {&box, grid[k/3*3+j/3][k%3*3+j%3]}} {
				if v.d < '1' || v.d > '9' || v.seen[v.d-'0'] {
					t.Fatalf("not a sudoku (unit %d):\n%s", k, showGrid(grid))
				}
				v.seen[v.d-'0'] = true
			}
		}
	}
}

func showGrid(g [9][9]byte) string {
	var b strings.Builder
	for _, row := range g {
		b.WriteString(string(row[:]) + "\n")
	}
	return b.String()
}

// TestSudokuConformanceFileIsUnsatisfiable: the file as shipped has no
// solution (see sudokuIndex); the solver proves it and names the cells.
func TestSudokuConformanceFileIsUnsatisfiable(t *testing.T) {
	ix := sudokuIndex(t, false)
	_, _, err := Solve(ix, []string{"sudoku_0_3"}, Options{})
	if err == nil || !strings.Contains(err.Error(), "sudoku_0_3") {
		t.Fatalf("want an explanation naming sudoku_0_3, got %v", err)
	}
}
