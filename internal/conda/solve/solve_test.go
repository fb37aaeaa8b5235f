package solve

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/envkit/envkit/internal/conda/virtual"
	"github.com/envkit/envkit/internal/conformance"
)

// loadIndex reads conformance repodata files as channels, in priority order,
// plus the virtual packages of linux-64 with their defaults.
func loadIndex(tb testing.TB, files ...string) *repodata.Index {
	tb.Helper()
	var channels []string
	var all [][]repodata.Record
	for _, f := range files {
		data, err := os.ReadFile(conformance.Dir(tb, "repodata", f))
		if err != nil {
			tb.Fatal(err)
		}
		channel := "https://conda.example/" + strings.TrimSuffix(f, ".json")
		subdir := "linux-64"
		if strings.Contains(f, "noarch") || f == "sudoku.json" {
			subdir = "noarch"
		}
		rd, err := repodata.Parse(channel, subdir, data)
		if err != nil {
			tb.Fatalf("%s: %v", f, err)
		}
		channels = append(channels, channel)
		all = append(all, rd.Records)
	}
	vp, err := virtual.Packages("linux-64", func(string) (string, bool) { return "", false })
	if err != nil {
		tb.Fatal(err)
	}
	return repodata.NewIndex(channels, append(all, vp)...)
}

func solveChecked(t *testing.T, ix *repodata.Index, specs ...string) map[string]*repodata.Record {
	t.Helper()
	got, _, err := Solve(ix, specs, Options{Platform: "linux-64"})
	if err != nil {
		t.Fatalf("solve %q: %v", specs, err)
	}
	for _, p := range checkSolution(got, specs) {
		t.Errorf("solve %q: %s", specs, p)
	}
	byName := map[string]*repodata.Record{}
	for _, r := range got {
		byName[r.Name] = r
	}
	return byName
}

// TestSolveConformanceRepodata solves representative requests on every
// repodata file of the conformance data and checks each solution
// independently.
func TestSolveConformanceRepodata(t *testing.T) {
	cases := []struct {
		files []string
		specs [][]string
	}{
		{[]string{"conda-index.json"}, [][]string{{"python"}, {"numpy"}, {"scipy"}, {"pandas"}, {"numpy 1.7*", "python 2.7*"}, {"scikit-learn", "matplotlib"}, {"anaconda"}}},
		{[]string{"conda-index4.json"}, [][]string{{"python"}, {"numpy"}, {"numpy", "scipy", "pandas"}, {"r-base"}, {"conda-build"}, {"dask", "bokeh"}, {"python 3.6*", "numpy 1.14*"}}},
		{[]string{"anaconda-r_linux-64.json", "conda-index4.json"}, [][]string{{"r-base"}, {"r-essentials"}, {"rpy2"}}},
		{[]string{"anaconda-main_noarch.json", "conda-index4.json"}, [][]string{{"affine"}, {"colour"}}},
		{[]string{"pytorch_linux-64.json", "conda-index4.json"}, [][]string{{"pytorch-cpu"}, {"pytorch-cpu", "python 3.6*"}}},
		{[]string{"rattler-dummy_linux-64.json"}, [][]string{{"foobar"}, {"xbar"}, {"foo", "bors"}, {"baz"}, {"track-features"}}},
		{[]string{"conda-forge-numpy_linux-64.json"}, [][]string{{"numpy"}, {"python"}, {"openssl"}}},
		// sudoku.json: see sudoku_test.go.
	}
	for _, c := range cases {
		ix := loadIndex(t, c.files...)
		for _, specs := range c.specs {
			solveChecked(t, ix, specs...)
		}
	}
}

// TestSolvePreferences pins expected choices on real data.
func TestSolvePreferences(t *testing.T) {
	dummy := loadIndex(t, "rattler-dummy_linux-64.json")
	// rattler's test_solve_dummy_repo_install_non_existing_dependency family:
	// foobar needs bors <2.0, so the newest such bors comes along.
	got := solveChecked(t, dummy, "foobar")
	if got["foobar"].Version != "2.1" || got["bors"].Version != "1.2.1" {
		t.Errorf("foobar: got %s and %s, want foobar 2.1 with bors 1.2.1", got["foobar"], got["bors"])
	}
	got = solveChecked(t, dummy, "xbar")
	if got["xfoo"].Version != "2" {
		t.Errorf("xbar needs xfoo >=2, got %s", got["xfoo"])
	}
	// foo 4.0.2 is the newest; the .conda replaces the .tar.bz2 of a build.
	got = solveChecked(t, dummy, "foo")
	if got["foo"].Version != "4.0.2" {
		t.Errorf("foo: got %s, want 4.0.2", got["foo"])
	}
	// foo 3.0.2 build 3 constrains bors <2.0: asking for bors 2 as well must
	// fall back to build 2.
	got = solveChecked(t, dummy, "foo 3.0.2", "bors >=2")
	if got["foo"].BuildNumber != 2 || got["bors"].Version != "2.1" {
		t.Errorf("foo 3.0.2 with bors >=2: got %s, %s", got["foo"], got["bors"])
	}
}

// TestSolvePrefersNewestDependencies: numpy 1.15.0 has builds for several
// pythons with equal build numbers; with nothing pinning python the build
// for the newest python wins (rattler's dependency rule), not the newest
// upload.
func TestSolvePrefersNewestDependencies(t *testing.T) {
	got := solveChecked(t, loadIndex(t, "conda-index4.json"), "numpy")
	if got["numpy"].Version != "1.15.0" || got["python"].Version != "3.7.0" {
		t.Errorf("numpy: got %s with %s, want numpy 1.15.0 with python 3.7.0", got["numpy"], got["python"])
	}
}

func TestSolveUnsatisfiableExplains(t *testing.T) {
	dummy := loadIndex(t, "rattler-dummy_linux-64.json")
	_, _, err := Solve(dummy, []string{"foobar", "bors >=2"}, Options{Platform: "linux-64"})
	var ue *UnsatisfiableError
	if !errors.As(err, &ue) {
		t.Fatalf("want an UnsatisfiableError, got %v", err)
	}
	msg := err.Error()
	for _, want := range []string{"foobar 2.1, 2.0 needs bors <2.0: bors 1.2.1, 1.1, 1.0", "bors >=2 was requested", "only one bors"} {
		if !strings.Contains(msg, want) {
			t.Errorf("explanation lacks %q:\n%s", want, msg)
		}
	}
	_, _, err = Solve(dummy, []string{"*[track_features=foo]"}, Options{Platform: "linux-64"})
	if err == nil || !strings.Contains(err.Error(), "must name one package") {
		t.Errorf("nameless spec: %v", err)
	}
	_, _, err = Solve(dummy, []string{"no-such-package"}, Options{Platform: "linux-64"})
	if err == nil || !strings.Contains(err.Error(), "no package named no-such-package") {
		t.Errorf("missing package: %v", err)
	}
}

// TestSolveNoarchAndPlatform: a linux-64 solve never picks another
// platform's records.
func TestSolveNoarchAndPlatform(t *testing.T) {
	ix := loadIndex(t, "conda-index4.json")
	got, _, err := Solve(ix, []string{"numpy"}, Options{Platform: "linux-64"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range got {
		if r.Subdir != "linux-64" && r.Subdir != "noarch" && r.Subdir != "" {
			t.Errorf("%s is from %s", r, r.Subdir)
		}
	}
}

// TestChannelPriority: with conda-index.json (2013) ahead of
// conda-index4.json (2018), strict priority takes numpy only from the
// first channel; flexible priority takes the newest numpy of either.
func TestChannelPriority(t *testing.T) {
	ix := loadIndex(t, "conda-index.json", "conda-index4.json")
	first := "https://conda.example/conda-index"
	got, _, err := Solve(ix, []string{"numpy"}, Options{Platform: "linux-64"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range checkSolution(got, []string{"numpy"}) {
		t.Error(p)
	}
	for _, r := range got {
		if len(ix.ByName(r.Name)) > 0 && ix.ByName(r.Name)[0].Channel == first && r.Channel != first {
			t.Errorf("strict priority: %s came from %s although %s has %s", r, r.Channel, first, r.Name)
		}
		if r.Name == "numpy" && !strings.HasPrefix(r.Version, "1.7") {
			t.Errorf("strict priority: numpy %s, want the first channel's 1.7", r.Version)
		}
	}
	// A requested spec naming a channel takes the package from it.
	if r := solveChecked(t, ix, "conda-index4::numpy")["numpy"]; r.Version != "1.15.0" {
		t.Errorf("conda-index4::numpy: got %s", r)
	}
	got, _, err = Solve(ix, []string{"numpy"}, Options{Platform: "linux-64", FlexiblePriority: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range got {
		if r.Name == "numpy" && r.Version != "1.15.0" {
			t.Errorf("flexible priority: numpy %s, want 1.15.0", r.Version)
		}
	}
}
