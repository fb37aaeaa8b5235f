package relock

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/envkit/envkit/internal/conda/lock"
	"github.com/envkit/envkit/internal/conda/matchspec"
	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/envkit/envkit/internal/conda/solve"
	"github.com/envkit/envkit/internal/conda/version"
	"github.com/envkit/envkit/internal/conformance"
)

// testRecipes is conda's test-recipes channel (noarch): dependent 1.0
// needs dependency <2, dependent 2.0 needs dependency >=2,
// another_dependent needs any dependent, run_constrained constrains
// dependency >=2.0, versioned 1.0 and 2.0 need nothing.
func testRecipes(t *testing.T) []repodata.Record {
	t.Helper()
	dir := conformance.Dir(t, "channels", "test-recipes")
	data, err := os.ReadFile(filepath.Join(dir, "noarch", "repodata.json"))
	if err != nil {
		t.Fatal(err)
	}
	rd, err := repodata.Parse("file://"+dir, "noarch", data)
	if err != nil {
		t.Fatal(err)
	}
	return rd.Records
}

// universes are the channel before an update (only 1.0 versions) and
// after it (everything).
func universes(t *testing.T) (before, after Universe) {
	all := testRecipes(t)
	var old []repodata.Record
	for _, r := range all {
		if r.Version == "1.0" {
			old = append(old, r)
		}
	}
	ch := []string{all[0].Channel}
	return Universe{Channels: ch, Records: [][]repodata.Record{old}}, Universe{Channels: ch, Records: [][]repodata.Record{all}}
}

var opts = solve.Options{Platform: "linux-64"}

// lockedOn solves specs on u and returns the records as a lock keeps them.
func lockedOn(t *testing.T, u Universe, specs ...string) []repodata.Record {
	t.Helper()
	recs, _, err := solve.Solve(u.Index(), specs, opts)
	if err != nil {
		t.Fatal(err)
	}
	var out []repodata.Record
	for _, r := range recs {
		out = append(out, *r)
	}
	return out
}

func pins(recs []*repodata.Record) string {
	var s []string
	for _, r := range recs {
		s = append(s, r.Name+"="+r.Version)
	}
	return strings.Join(s, " ")
}

func TestSolveKeepsPins(t *testing.T) {
	before, after := universes(t)
	specs := []string{"another_dependent", "versioned"}
	locked := lockedOn(t, before, specs...)
	cases := []struct {
		name   string
		specs  []string
		update []string
		want   string
	}{
		{"nothing named keeps every pin", specs, nil,
			"another_dependent=1.0 dependency=1.0 dependent=1.0 versioned=1.0"},
		{"a leaf moves alone", specs, []string{"versioned"},
			"another_dependent=1.0 dependency=1.0 dependent=1.0 versioned=2.0"},
		{"what must move with it moves", specs, []string{"dependency"},
			"another_dependent=1.0 dependency=2.0 dependent=2.0 versioned=1.0"},
		{"everything named is a fresh solve", specs, []string{"another_dependent", "dependency", "dependent", "versioned"},
			"another_dependent=2.0 dependency=2.0 dependent=2.0 versioned=2.0"},
		{"a new spec releases the pins in its way, no others",
			append(slices.Clone(specs), "run_constrained"), Outdated(append(slices.Clone(specs), "run_constrained"), locked),
			"another_dependent=1.0 dependency=2.0 dependent=2.0 run_constrained=1.0 versioned=1.0"},
		{"a dropped spec drops its packages", []string{"versioned"}, nil, "versioned=1.0"},
		{"a changed spec moves its package", []string{"another_dependent", "versioned >=2"}, Outdated([]string{"another_dependent", "versioned >=2"}, locked),
			"another_dependent=1.0 dependency=1.0 dependent=1.0 versioned=2.0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Solve(after, Request{Specs: c.specs, Locked: locked, Update: c.update}, opts)
			if err != nil {
				t.Fatal(err)
			}
			if pins(got) != c.want {
				t.Errorf("got  %s\nwant %s", pins(got), c.want)
			}
		})
	}
}

func TestSolveReleasesAWithdrawnPin(t *testing.T) {
	before, after := universes(t)
	locked := lockedOn(t, before, "versioned", "dependency")
	// The channel withdraws versioned 1.0.
	var recs []repodata.Record
	for _, r := range after.Records[0] {
		if r.Name != "versioned" || r.Version != "1.0" {
			recs = append(recs, r)
		}
	}
	after.Records = [][]repodata.Record{recs}
	got, err := Solve(after, Request{Specs: []string{"versioned", "dependency"}, Locked: locked}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if pins(got) != "dependency=1.0 versioned=2.0" {
		t.Errorf("got %s", pins(got))
	}
}

func TestSolveUnsatisfiableSpecs(t *testing.T) {
	_, after := universes(t)
	_, err := Solve(after, Request{Specs: []string{"unsatisfiable"}}, opts)
	if err == nil || !strings.Contains(err.Error(), "unsatisfiable 1.0 needs versioned <1.0") {
		t.Fatalf("err = %v", err)
	}
}

// Every record of a real channel is matched by its own pin and by no
// other record of its name that differs in version (conda's order) or build.
func TestPinSpecMatchesOnlyItsRecord(t *testing.T) {
	data, err := os.ReadFile(conformance.Dir(t, "repodata", "conda-index4.json"))
	if err != nil {
		t.Fatal(err)
	}
	rd, err := repodata.Parse("https://repo.anaconda.com/pkgs/main", "linux-64", data)
	if err != nil {
		t.Fatal(err)
	}
	ix := repodata.NewIndex(nil, rd.Records)
	n := 0
	for _, name := range ix.Names() {
		recs := ix.ByName(name)
		for _, r := range recs {
			ms, err := matchspec.Parse(PinSpec(r))
			if err != nil {
				t.Fatalf("%s: %v", PinSpec(r), err)
			}
			for _, o := range recs {
				// conda's == equates 1.0 and 1.0.0
				same := o.Build == r.Build && version.MustParse(o.Version).Equal(version.MustParse(r.Version))
				if ms.Matches(o) != same {
					t.Errorf("%s matches %s: %v", PinSpec(r), o, ms.Matches(o))
				}
			}
			n++
		}
	}
	if n < 1000 {
		t.Errorf("only %d records checked", n)
	}
}

func TestOutdated(t *testing.T) {
	locked := []repodata.Record{{Name: "python", Version: "3.11.9", Build: "h1_0"}, {Name: "numpy", Version: "1.26.4", Build: "py311_0"}}
	got := Outdated([]string{"python 3.11.*", "numpy >=2", "scipy", "numpy <3", "bad spec ((("}, locked)
	if strings.Join(got, " ") != "numpy scipy" {
		t.Errorf("got %v", got)
	}
}

func TestChanges(t *testing.T) {
	entry := func(name, ver, build, platform string) lock.Package {
		return lock.Package{Name: name, Version: ver, Manager: lock.Conda, Platform: platform, Category: "main",
			URL: "https://conda.anaconda.org/conda-forge/" + platform + "/" + name + "-" + ver + "-" + build + ".conda"}
	}
	old := []lock.Package{
		entry("numpy", "1.26.4", "py311_0", "linux-64"), entry("python", "3.11.9", "h1_0", "linux-64"),
		entry("zlib", "1.3", "h0_0", "linux-64"), entry("openssl", "3.0.1", "0", "linux-64"),
		entry("tzdata", "2024a", "0", "linux-64"), entry("numpy", "1.26.4", "py311_0", "linux-aarch64"),
	}
	replaced := entry("zstd", "1.5.6", "0", "linux-64")
	replaced.Hash.SHA256 = "aa"
	old = append(old, replaced)
	replaced.Hash.SHA256 = "bb"
	moved := entry("tzdata", "2024a", "0", "linux-64")
	moved.URL = strings.Replace(moved.URL, "conda-forge", "mirror", 1)
	new := []lock.Package{
		entry("numpy", "2.1.3", "py311_0", "linux-64"), entry("python", "3.11.9", "h1_1", "linux-64"),
		entry("openssl", "3.0.10", "0", "linux-64"), entry("libzlib", "1.3", "h0_0", "linux-64"), moved,
		entry("numpy", "1.26.0", "py311_0", "linux-aarch64"), replaced,
	}
	var b strings.Builder
	if err := WriteChanges(&b, Changes(old, new)); err != nil {
		t.Fatal(err)
	}
	want := `linux-64:
  added     libzlib  1.3 h0_0
  upgraded  numpy    1.26.4 → 2.1.3
  upgraded  openssl  3.0.1 → 3.0.10
  rebuilt   python   3.11.9 h1_0 → h1_1
  moved     tzdata   https://conda.anaconda.org/conda-forge/linux-64/tzdata-2024a-0.conda → https://conda.anaconda.org/mirror/linux-64/tzdata-2024a-0.conda
  removed   zlib     1.3 h0_0
  replaced  zstd     https://conda.anaconda.org/conda-forge/linux-64/zstd-1.5.6-0.conda (other checksums)
linux-aarch64:
  downgraded  numpy  1.26.4 → 1.26.0
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	if len(Changes(old, old)) != 0 {
		t.Error("a lock differs from itself")
	}
	b.Reset()
	WriteChanges(&b, nil)
	if b.String() != "no changes\n" {
		t.Errorf("got %q", b.String())
	}
}

func condaIndex4(tb testing.TB) Universe {
	tb.Helper()
	data, err := os.ReadFile(conformance.Dir(tb, "repodata", "conda-index4.json"))
	if err != nil {
		tb.Fatal(err)
	}
	const ch = "https://repo.anaconda.com/pkgs/main"
	rd, err := repodata.Parse(ch, "linux-64", data)
	if err != nil {
		tb.Fatal(err)
	}
	return Universe{Channels: []string{ch}, Records: [][]repodata.Record{rd.Records}}
}

// realLock is an environment locked when python 2.7 was asked for.
func realLock(tb testing.TB, u Universe) []repodata.Record {
	recs, _, err := solve.Solve(u.Index(), []string{"python 2.7.*", "numpy", "scipy", "pandas"}, opts)
	if err != nil {
		tb.Fatal(err)
	}
	var out []repodata.Record
	for _, r := range recs {
		out = append(out, *r)
	}
	return out
}

// On conda's real index: dropping the python spec moves nothing; updating
// python moves it and the packages built for it, and only those.
func TestSolveRealIndex(t *testing.T) {
	u := condaIndex4(t)
	locked := realLock(t, u)
	byName := map[string]repodata.Record{}
	for _, r := range locked {
		byName[r.Name] = r
	}
	specs := []string{"numpy", "scipy", "pandas"}
	kept, err := Solve(u, Request{Specs: specs, Locked: locked}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(kept) != len(locked) {
		t.Errorf("%d packages, locked %d", len(kept), len(locked))
	}
	for _, r := range kept {
		if l := byName[r.Name]; l.Version != r.Version || l.Build != r.Build {
			t.Errorf("%s moved: %s → %s", r.Name, l.String(), r.String())
		}
	}
	updated, err := Solve(u, Request{Specs: specs, Locked: locked, Update: []string{"python"}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	fresh, _, _ := solve.Solve(u.Index(), specs, opts)
	var python string
	for _, r := range fresh {
		if r.Name == "python" {
			python = r.Version
		}
	}
	moved := 0
	for _, r := range updated {
		l, ok := byName[r.Name]
		switch {
		case r.Name == "python" && r.Version != python:
			t.Errorf("python %s, a fresh solve has %s", r.Version, python)
		case ok && (l.Version != r.Version || l.Build != r.Build):
			moved++
		}
	}
	if moved == 0 || moved == len(updated) {
		t.Errorf("%d of %d packages moved", moved, len(updated))
	}
	t.Logf("--update python moved %d of %d packages", moved, len(updated))
}

// BenchmarkSolveUpdatePython: --update python on a python 2.7 lock of
// numpy, scipy and pandas over conda-index4 (5,643 records), where most
// pins must be released and found by halving.
func BenchmarkSolveUpdatePython(b *testing.B) {
	u := condaIndex4(b)
	locked := realLock(b, u)
	req := Request{Specs: []string{"numpy", "scipy", "pandas"}, Locked: locked, Update: []string{"python"}}
	for b.Loop() {
		if _, err := Solve(u, req, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSolveKeepAll: a stale lock whose pins all still fit.
func BenchmarkSolveKeepAll(b *testing.B) {
	u := condaIndex4(b)
	locked := realLock(b, u)
	req := Request{Specs: []string{"numpy", "scipy", "pandas"}, Locked: locked}
	for b.Loop() {
		if _, err := Solve(u, req, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// checkSolution verifies a solution without the solver: one record per
// name, every spec met, every depends met and every constrains respected.
func checkSolution(t *testing.T, solution []*repodata.Record, specs []string) {
	t.Helper()
	byName := map[string]*repodata.Record{}
	for _, r := range solution {
		if _, dup := byName[r.Name]; dup {
			t.Errorf("two records named %s", r.Name)
		}
		byName[r.Name] = r
	}
	met := func(s string) (ok, installed bool) {
		ms := matchspec.MustParse(s)
		r, installed := byName[ms.Name]
		return installed && ms.Matches(r), installed
	}
	for _, s := range specs {
		if ok, _ := met(s); !ok {
			t.Errorf("spec %q not met", s)
		}
	}
	for _, r := range solution {
		for _, d := range r.Depends {
			if ok, _ := met(d); !ok {
				t.Errorf("%s depends on %q, not met", r, d)
			}
		}
		for _, c := range r.Constrains {
			if ok, installed := met(c); installed && !ok {
				t.Errorf("%s constrains %q, violated", r, c)
			}
		}
	}
}

// The rule of Solve, checked from outside on conda's real index: the
// result is a valid environment for the specs, each updated package has at
// least its fresh version, and each pin that moved could not have been
// kept together with the pins that were.
func TestSolveRuleOnRealIndex(t *testing.T) {
	u := condaIndex4(t)
	scenarios := []struct {
		old, specs []string
		updates    [][]string
	}{
		{[]string{"python 3.5.*", "numpy 1.11.*", "pandas", "scipy"}, []string{"python", "numpy", "pandas", "scipy"},
			[][]string{nil, {"numpy"}, {"python"}, {"pandas", "scipy"}}},
		{[]string{"python 2.7.*", "requests 2.18.*", "flask 0.12.*", "sqlalchemy"}, []string{"python", "requests", "flask", "sqlalchemy", "matplotlib"},
			[][]string{nil, {"flask"}, {"openssl", "sqlite"}}},
	}
	for _, sc := range scenarios {
		locked := lockedOn(t, u, sc.old...)
		lockedByName := map[string]repodata.Record{}
		for _, r := range locked {
			lockedByName[r.Name] = r
		}
		fresh, _, err := solve.Solve(u.Index(), sc.specs, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, update := range sc.updates {
			if update == nil {
				update = Outdated(sc.specs, locked)
			}
			got, err := Solve(u, Request{Specs: sc.specs, Locked: locked, Update: update}, opts)
			if err != nil {
				t.Fatal(err)
			}
			checkSolution(t, got, sc.specs)
			var keptPins, released []string
			for _, name := range update {
				if f, r := find(fresh, name), find(got, name); f != nil && r != nil && version.MustParse(r.Version).Less(version.MustParse(f.Version)) {
					t.Errorf("%v: %s below its fresh version %s", update, name, f.Version)
				}
			}
			for _, l := range locked {
				if slices.Contains(update, l.Name) {
					continue
				}
				if r := find(got, l.Name); r == nil || (r.Version == l.Version && r.Build == l.Build) {
					keptPins = append(keptPins, PinSpec(&l))
				} else {
					released = append(released, PinSpec(&l))
				}
			}
			for _, pin := range released {
				rec := []repodata.Record{{Name: pinsName, Version: "0", Build: "0", Constrains: append(slices.Clone(keptPins), pin)}}
				for _, name := range update {
					if f := find(fresh, name); f != nil {
						rec[0].Constrains = append(rec[0].Constrains, name+" >="+f.Version)
					}
				}
				if _, _, err := solve.Solve(u.Index(rec), append(slices.Clone(sc.specs), pinsName), opts); err == nil {
					t.Errorf("%v: pin %s was released but fits with the %d kept", update, pin, len(keptPins))
				}
			}
			t.Logf("%v --update %v: %d pins kept, %d released", sc.old, update, len(keptPins), len(released))
		}
	}
}
