package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/envkit/envkit/internal/conda/channel"
	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/envkit/envkit/internal/conda/virtual"
	"github.com/envkit/envkit/internal/conformance"
)

// runSolveCLI runs the CLI with stdout and stderr captured.
func runSolveCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	dir := t.TempDir()
	outF, err := os.Create(filepath.Join(dir, "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	errF, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	oldOut, oldErr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = outF, errF
	code = run(args)
	os.Stdout, os.Stderr = oldOut, oldErr
	outF.Close()
	errF.Close()
	o, _ := os.ReadFile(outF.Name())
	e, _ := os.ReadFile(errF.Name())
	return string(o), string(e), code
}

// isolate keeps the test away from the user's cache and channel settings.
func isolate(t *testing.T) {
	t.Setenv("ENVKIT_CACHE_DIR", t.TempDir())
	t.Setenv("ENVKIT_CHANNEL_ALIAS", "")
	t.Setenv("ENVKIT_CHANNEL_MIRRORS", "")
}

type solvedJSON struct {
	Name        string   `json:"name"`
	Version     string   `json:"version"`
	Build       string   `json:"build"`
	BuildNumber *int64   `json:"build_number"`
	Subdir      string   `json:"subdir"`
	Channel     string   `json:"channel"`
	URL         string   `json:"url"`
	SHA256      string   `json:"sha256"`
	MD5         string   `json:"md5"`
	Depends     []string `json:"depends"`
	Constrains  []string `json:"constrains"`
}

func TestSolveCommandFileChannelJSON(t *testing.T) {
	isolate(t)
	dir := conformance.Dir(t, "channels", "test-recipes")
	out, errOut, code := runSolveCLI(t, "solve", "--channel", "file://"+dir, "--json", "dependent 1.0")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got []solvedJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	var names []string
	for _, r := range got {
		names = append(names, r.Name+"="+r.Version)
		if r.BuildNumber == nil || r.Depends == nil || r.Constrains == nil || r.Subdir == "" || r.Channel == "" {
			t.Errorf("%s: missing fields: %+v", r.Name, r)
		}
	}
	// Sorted by name; virtual packages are part of the solution only when
	// something needs them.
	if strings.Join(names, " ") != "dependency=1.0 dependent=1.0" {
		t.Fatalf("solution %v", names)
	}
	dep := got[0]
	if dep.SHA256 == "" || dep.MD5 == "" || !strings.HasPrefix(dep.URL, "file://"+dir+"/noarch/") {
		t.Errorf("dependency record: %+v", dep)
	}
}

// Off a terminal, as here, solve prints one "name version build channel"
// line per package; the table is for terminals.
func TestSolveCommandHTTPChannelLines(t *testing.T) {
	isolate(t)
	srv := httptest.NewServer(http.FileServer(http.Dir(conformance.Dir(t, "channels", "test-recipes"))))
	defer srv.Close()
	out, errOut, code := runSolveCLI(t, "solve", "-c", srv.URL+"/", "another_dependent")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := fmt.Sprintf("another_dependent 2.0 0 %[1]s\ndependency 2.0 0 %[1]s\ndependent 2.0 0 %[1]s\n", srv.URL)
	if out != want {
		t.Errorf("got\n%swant\n%s", out, want)
	}
}

func TestSolutionTable(t *testing.T) {
	cfg, err := channel.FromEnv(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	recs := []*repodata.Record{
		{Name: "numpy", Version: "2.1.3", Build: "py312_0", Channel: "https://conda.anaconda.org/conda-forge"},
		{Name: "__glibc", Version: "2.28", Build: "0", Channel: virtual.Channel},
	}
	var b strings.Builder
	if err := writeSolutionTable(&b, cfg, recs); err != nil {
		t.Fatal(err)
	}
	want := "NAME     VERSION  BUILD    CHANNEL\nnumpy    2.1.3    py312_0  conda-forge\n__glibc  2.28     0        " + virtual.Channel + "\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestSolveCommandUnsatisfiable(t *testing.T) {
	isolate(t)
	dir := conformance.Dir(t, "channels", "test-recipes")
	out, errOut, code := runSolveCLI(t, "solve", "--channel", "file://"+dir, "unsatisfiable")
	if code != 1 || out != "" {
		t.Fatalf("exit %d, stdout %q; want 1 and nothing", code, out)
	}
	if !strings.Contains(errOut, "unsatisfiable 1.0 needs versioned <1.0") {
		t.Errorf("explanation:\n%s", errOut)
	}
	if _, _, code := runSolveCLI(t, "solve"); code != 2 {
		t.Errorf("no spec: exit %d, want 2", code)
	}
	if _, errOut, code := runSolveCLI(t, "solve", "--channel", "file://"+dir, "bad spec ((("); code != 1 || errOut == "" {
		t.Errorf("bad spec: exit %d, %q", code, errOut)
	}
}

// TestSolveCommandSudoku runs `envkit solve` on the conformance sudoku.json
// with its box dependencies corrected (as shipped it constrains each cell
// against the wrong box and has no solution; see docs/solver.md), served as
// a file:// channel, and checks the printed solution as a sudoku: Arto
// Inkala's puzzle, givens pinned as `sudoku_R_C ==V`.
func TestSolveCommandSudoku(t *testing.T) {
	isolate(t)
	data, err := os.ReadFile(conformance.Dir(t, "repodata", "sudoku.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	var pkgs map[string]map[string]any
	if err := json.Unmarshal(doc["packages"], &pkgs); err != nil {
		t.Fatal(err)
	}
	for _, rec := range pkgs {
		var row, col int
		if _, err := fmt.Sscanf(rec["name"].(string), "sudoku_%d_%d", &row, &col); err != nil {
			t.Fatal(err)
		}
		var deps []string
		for r := range 9 {
			for c := range 9 {
				if (r == row || c == col || (r/3 == row/3 && c/3 == col/3)) && (r != row || c != col) {
					deps = append(deps, fmt.Sprintf("sudoku_%d_%d !=%s", r, c, rec["version"]))
				}
			}
		}
		rec["depends"] = deps
	}
	fixed, err := json.Marshal(map[string]any{"info": map[string]string{"subdir": "noarch"}, "packages": pkgs})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "noarch"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "noarch", "repodata.json"), fixed, 0o644); err != nil {
		t.Fatal(err)
	}
	const puzzle = "8..........36......7..9.2...5...7.......457.....1...3...1....68..85...1..9....4.."
	args := []string{"solve", "--channel", "file://" + dir, "--json"}
	for i, ch := range puzzle {
		spec := fmt.Sprintf("sudoku_%d_%d", i/9, i%9)
		if ch != '.' {
			spec += fmt.Sprintf(" ==%c", ch)
		}
		args = append(args, spec)
	}
	out, errOut, code := runSolveCLI(t, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got []solvedJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	var grid [9][9]byte
	for _, r := range got {
		var row, col int
		fmt.Sscanf(r.Name, "sudoku_%d_%d", &row, &col)
		grid[row][col] = r.Version[0]
	}
	for i, ch := range puzzle {
		if ch != '.' && grid[i/9][i%9] != byte(ch) {
			t.Errorf("given %d,%d changed", i/9, i%9)
		}
	}
	for k := range 9 {
		seen := [3]map[byte]bool{{}, {}, {}}
		for j := range 9 {
			for u, d := range []byte{grid[k][j], grid[j][k], grid[k/3*3+j/3][k%3*3+j%3]} {
				if d < '1' || d > '9' || seen[u][d] {
					t.Fatalf("not a sudoku: unit %d kind %d", k, u)
				}
				seen[u][d] = true
			}
		}
	}
}

// A channel out of reach says how to read it from elsewhere.
func TestSolveUnreachableChannel(t *testing.T) {
	t.Setenv("ENVKIT_CACHE_DIR", t.TempDir())
	code, stderr := runCaptured(t, "solve", "--channel", "http://127.0.0.1:1/nothing", "python")
	if code != 1 || !strings.Contains(stderr, "127.0.0.1:1") || !strings.Contains(stderr, "ENVKIT_CHANNEL_MIRRORS=CHANNEL=URL") {
		t.Errorf("exit %d, stderr %q: want 1 and the mirror hint", code, stderr)
	}
}
