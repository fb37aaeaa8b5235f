package solve

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/envkit/envkit/internal/conda/virtual"
	"github.com/envkit/envkit/internal/conformance"
)

// testRecipes indexes conda's test-recipes channel (noarch and linux-fake)
// with linux-64's default virtual packages.
func testRecipes(t *testing.T) *repodata.Index {
	t.Helper()
	dir := conformance.Dir(t, "channels", "test-recipes")
	url := "file://" + dir
	var all [][]repodata.Record
	for _, sub := range []string{"noarch", "linux-fake"} {
		data, err := os.ReadFile(filepath.Join(dir, sub, "repodata.json"))
		if err != nil {
			t.Fatal(err)
		}
		rd, err := repodata.Parse(url, sub, data)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, rd.Records)
	}
	vp, err := virtual.Packages("linux-64", func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	return repodata.NewIndex([]string{url}, append(all, vp)...)
}

func TestTestRecipesChannel(t *testing.T) {
	ix := testRecipes(t)
	solve := func(specs ...string) map[string]*repodata.Record {
		t.Helper()
		got, _, err := Solve(ix, specs, Options{Platform: "linux-fake"})
		if err != nil {
			t.Fatalf("%q: %v", specs, err)
		}
		for _, p := range checkSolution(got, specs) {
			t.Errorf("%q: %s", specs, p)
		}
		m := map[string]*repodata.Record{}
		for _, r := range got {
			m[r.Name] = r
		}
		return m
	}
	unsat := func(specs []string, want ...string) {
		t.Helper()
		_, _, err := Solve(ix, specs, Options{Platform: "linux-fake"})
		if err == nil {
			t.Fatalf("%q: solved, want an explanation", specs)
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%q: explanation lacks %q:\n%v", specs, w, err)
			}
		}
	}
	// dependent pulls the dependency its version needs.
	if got := solve("dependent"); got["dependent"].Version != "2.0" || got["dependency"].Version != "2.0" {
		t.Errorf("dependent: %v", got)
	}
	if got := solve("dependent 1.0"); got["dependency"].Version != "1.0" {
		t.Errorf("dependent 1.0 must pull dependency 1.0: %v", got)
	}
	if got := solve("another_dependent", "dependency 1.0"); got["dependent"].Version != "1.0" {
		t.Errorf("dependency 1.0 forces dependent 1.0: %v", got)
	}
	// run_constrained constrains dependency >=2.0, only when installed.
	if got := solve("run_constrained"); got["dependency"] != nil {
		t.Errorf("a constraint must not install anything: %v", got)
	}
	unsat([]string{"run_constrained", "dependent 1.0"},
		"run_constrained 1.0 constrains dependency>=2.0, which rules out dependency 1.0",
		"dependent 1.0 needs dependency >=1.0,<2.0a0")
	// buildstring variants differ in what they depend on.
	if got := solve("buildstring=1.0=versioned_1"); got["versioned"].Version != "1.0" {
		t.Errorf("buildstring versioned_1: %v", got)
	}
	// unsatisfiable needs versioned <1.0, which does not exist.
	unsat([]string{"unsatisfiable"},
		"unsatisfiable was requested: unsatisfiable 1.0",
		"unsatisfiable 1.0 needs versioned <1.0, but none of the available versioned matches it (versioned 2.0, 1.0)")
	// Every track_feature record tracks a feature; asking for it through
	// feature gets the newest.
	if got := solve("feature"); got["track_feature"].Version != "2.0" {
		t.Errorf("feature: %v", got)
	}
	// The linux-fake package needs __glibc >=2.28 (virtual, default 2.36).
	if got := solve("virtualdep-package"); got["virtualdep-package"].Version != "2.0" || got["__glibc"] == nil {
		t.Errorf("virtualdep-package: %v", got)
	}
}

// TestTrackFeaturesAvoided: a record that tracks fewer features wins over
// a newer one that tracks more, unless the spec asks for it (conda's
// classic solver and libsolv minimise tracked features the same way).
func TestTrackFeaturesAvoided(t *testing.T) {
	dummy := loadIndex(t, "rattler-dummy_linux-64.json")
	if got := solveChecked(t, dummy, "track-features"); got["track-features"].Version != "1" {
		t.Errorf("track-features: got %s, want 1 (one feature, the others two)", got["track-features"])
	}
	if got := solveChecked(t, dummy, "track-features >=2"); got["track-features"].Version != "4" {
		t.Errorf("track-features >=2: got %s, want 4", got["track-features"])
	}
	idx4 := loadIndex(t, "conda-index4.json")
	if got := solveChecked(t, idx4, "_r-mutex"); got["_r-mutex"].Build != "mro_2" {
		t.Errorf("_r-mutex: got %s, want the featureless mro_2", got["_r-mutex"])
	}
	// r-base 3.5.0 asks for the featured anacondar build by name.
	if got := solveChecked(t, idx4, "r-base 3.5.0"); got["_r-mutex"].Build != "anacondar_1" {
		t.Errorf("r-base 3.5.0: got %s, want _r-mutex anacondar_1", got["_r-mutex"])
	}
}
