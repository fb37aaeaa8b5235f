package solve

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/envkit/envkit/internal/conformance"
)

// Expectations from conda's own solver tests (conda/conda
// conda/testing/solver_helpers.py, class SolverTests, run by
// tests/test_solvers.py for the classic and libmamba solvers), reproduced on
// the same data: index_packages(1) is tests/data/index.json, the
// conformance conda-index.json.

// condaIndex1 loads conda-index.json as conda's tests do: pip is added to
// the depends of every python 2/3 record (add_pip_as_python_dependency).
func condaIndex1(t *testing.T, extra ...repodata.Record) *repodata.Index {
	t.Helper()
	data, err := os.ReadFile(conformance.Dir(t, "repodata", "conda-index.json"))
	if err != nil {
		t.Fatal(err)
	}
	rd, err := repodata.Parse("https://conda.example/test", "linux-64", data)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rd.Records {
		r := &rd.Records[i]
		if r.Name == "python" && (strings.HasPrefix(r.Version, "2.") || strings.HasPrefix(r.Version, "3.")) {
			r.Depends = append(slices.Clone(r.Depends), "pip")
		}
	}
	return repodata.NewIndex([]string{"https://conda.example/test"}, rd.Records, extra)
}

func solveSet(t *testing.T, ix *repodata.Index, specs ...string) []string {
	t.Helper()
	got, _, err := Solve(ix, specs, Options{Platform: "linux-64"})
	if err != nil {
		t.Fatalf("%q: %v", specs, err)
	}
	for _, p := range checkSolution(got, specs) {
		t.Errorf("%q: %s", specs, p)
	}
	var out []string
	for _, r := range got {
		out = append(out, r.String())
	}
	return out
}

// test_pseudo_boolean: the latest iopro was not built against numpy 1.5.
func TestCondaPseudoBoolean(t *testing.T) {
	got := solveSet(t, condaIndex1(t), "iopro", "python 2.7*", "numpy 1.5*")
	want := []string{
		"distribute-0.6.36-py27_1", "iopro-1.4.3-np15py27_p0", "numpy-1.5.1-py27_4",
		"openssl-1.0.1c-0", "pip-1.3.1-py27_1", "python-2.7.5-0", "readline-6.2-0",
		"sqlite-3.7.13-0", "system-5.8-1", "tk-8.5.13-0", "unixodbc-2.3.1-0", "zlib-1.2.7-0",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
}

// test_get_dists and test_anaconda_nomkl.
func TestCondaAnaconda(t *testing.T) {
	ix := condaIndex1(t)
	got := solveSet(t, ix, "anaconda 1.4.0")
	for _, want := range []string{"anaconda-1.4.0-np17py33_0", "freetype-2.4.10-0"} {
		if !slices.Contains(got, want) {
			t.Errorf("anaconda 1.4.0: %s missing from %v", want, got)
		}
	}
	got = solveSet(t, ix, "anaconda 1.5.0", "python 2.7*", "numpy 1.7*")
	if len(got) != 107 || !slices.Contains(got, "scipy-0.12.0-np17py27_0") {
		t.Errorf("anaconda 1.5.0: %d records (want 107), scipy-0.12.0-np17py27_0 in: %v", len(got), slices.Contains(got, "scipy-0.12.0-np17py27_0"))
	}
}

// test_unsat_from_r1: scipy 0.12.0b1 needs numpy 1.6 or 1.7.
func TestCondaUnsatFromR1(t *testing.T) {
	_, _, err := Solve(condaIndex1(t), []string{"numpy 1.5*", "scipy 0.12.0b1"}, Options{Platform: "linux-64"})
	if err == nil {
		t.Fatal("solved")
	}
	for _, want := range []string{"numpy 1.5* was requested", "scipy 0.12.0b1 needs numpy 1.6*", "needs numpy 1.7*: numpy 1.7.1", "only one numpy"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("explanation lacks %q:\n%v", want, err)
		}
	}
}

func rec(name, ver string, depends ...string) repodata.Record {
	return repodata.Record{Name: name, Version: ver, Build: "0", Subdir: "linux-64",
		Channel: "https://conda.example/test", Filename: name + "-" + ver + "-0.conda", Depends: depends}
}

// test_unsat_any_two_not_three: any two of a, b, c install, with the
// versions conda expects, but not all three.
func TestCondaAnyTwoNotThree(t *testing.T) {
	recs := []repodata.Record{
		rec("a", "1.0", "d >=1,<2"), rec("a", "2.0", "d >=2,<3"),
		rec("b", "1.0", "d >=1,<2"), rec("b", "2.0", "d >=3,<4"),
		rec("c", "1.0", "d >=2,<3"), rec("c", "2.0", "d >=3,<4"),
		rec("d", "1.0"), rec("d", "2.0"), rec("d", "3.0"),
	}
	ix := repodata.NewIndex([]string{"https://conda.example/test"}, recs)
	for specs, want := range map[string]string{
		"a b": "a-1.0-0 b-1.0-0 d-1.0-0",
		"a c": "a-2.0-0 c-1.0-0 d-2.0-0",
		"b c": "b-2.0-0 c-2.0-0 d-3.0-0",
	} {
		if got := strings.Join(solveSet(t, ix, strings.Fields(specs)...), " "); got != want {
			t.Errorf("%s: got %s, want %s", specs, got, want)
		}
	}
	_, _, err := Solve(ix, []string{"a", "b", "c"}, Options{})
	if err == nil || !strings.Contains(err.Error(), "only one d can be installed") {
		t.Errorf("a b c: %v", err)
	}
}

// test_unsat_chain: a -> b -> c 1.x -> d 1.x against e -> c 2.x.
func TestCondaUnsatChain(t *testing.T) {
	ix := repodata.NewIndex([]string{"https://conda.example/test"}, []repodata.Record{
		rec("a", "1.0", "b"), rec("b", "1.0", "c >=1,<2"), rec("c", "1.0", "d >=1,<2"),
		rec("d", "1.0"), rec("e", "1.0", "c >=2,<3"), rec("c", "2.0", "d >=2,<3"), rec("d", "2.0"),
	})
	_, _, err := Solve(ix, []string{"a", "e"}, Options{})
	if err == nil {
		t.Fatal("solved")
	}
	for _, want := range []string{"a 1.0 needs b: b 1.0", "b 1.0 needs c >=1,<2: c 1.0", "e 1.0 needs c >=2,<3: c 2.0", "only one c can be installed"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("explanation lacks %q:\n%v", want, err)
		}
	}
}

// test_timestamps_and_deps: two builds of mypackage 1.0 differ in the
// libpng they need; alone, the one allowing the newer libpng wins although
// its timestamp is older.
func TestCondaTimestampsAndDeps(t *testing.T) {
	hash12 := rec("mypackage", "1.0", "libpng 1.2.*")
	hash12.Build, hash12.Filename, hash12.Timestamp = "hash12_0", "mypackage-1.0-hash12_0.tar.bz2", 1
	hash15 := rec("mypackage", "1.0", "libpng 1.5.*")
	hash15.Build, hash15.Filename, hash15.Timestamp = "hash15_0", "mypackage-1.0-hash15_0.tar.bz2", 0
	ix := condaIndex1(t, hash12, hash15)
	for _, c := range []struct {
		specs []string
		want  []string
	}{
		{[]string{"libpng 1.2.*", "mypackage"}, []string{"libpng-1.2.50-0", "mypackage-1.0-hash12_0"}},
		{[]string{"libpng 1.5.*", "mypackage"}, []string{"libpng-1.5.13-1", "mypackage-1.0-hash15_0"}},
		{[]string{"mypackage"}, []string{"libpng-1.5.13-1", "mypackage-1.0-hash15_0"}},
	} {
		got := solveSet(t, ix, c.specs...)
		for _, w := range c.want {
			if !slices.Contains(got, w) {
				t.Errorf("%q: %s missing from %v", c.specs, w, got)
			}
		}
	}
}

// test_nonexistent_deps: mypackage 1.0 needs a package that does not
// exist, so 1.1 is installed, with exactly conda's environment.
func TestCondaNonexistentDeps(t *testing.T) {
	ix := condaIndex1(t,
		rec("mypackage", "1.0", "nose", "python 3.3*", "notarealpackage 2.0*"),
		rec("mypackage", "1.1", "nose", "python 3.3*"),
		rec("anotherpackage", "1.0", "nose", "mypackage 1.1"),
		rec("anotherpackage", "2.0", "nose", "mypackage"),
	)
	base := []string{"distribute-0.6.36-py33_1", "mypackage-1.1-0", "nose-1.3.0-py33_0", "openssl-1.0.1c-0",
		"pip-1.3.1-py33_1", "python-3.3.2-0", "readline-6.2-0", "sqlite-3.7.13-0", "system-5.8-1", "tk-8.5.13-0", "zlib-1.2.7-0"}
	if got := solveSet(t, ix, "mypackage"); !slices.Equal(got, base) {
		t.Errorf("mypackage:\ngot  %v\nwant %v", got, base)
	}
	for spec, another := range map[string]string{"anotherpackage 1.0": "anotherpackage-1.0-0", "anotherpackage": "anotherpackage-2.0-0"} {
		want := append([]string{another}, base...)
		if got := solveSet(t, ix, spec); !slices.Equal(got, want) {
			t.Errorf("%s:\ngot  %v\nwant %v", spec, got, want)
		}
	}
}

// test_iopro_mkl: iopro 1.4 with numpy 1.7 takes the featureless numpy.
func TestCondaIoproMKL(t *testing.T) {
	got := solveSet(t, condaIndex1(t), "iopro 1.4*", "python 2.7*", "numpy 1.7*")
	want := []string{
		"distribute-0.6.36-py27_1", "iopro-1.4.3-np17py27_p0", "numpy-1.7.1-py27_0",
		"openssl-1.0.1c-0", "pip-1.3.1-py27_1", "python-2.7.5-0", "readline-6.2-0",
		"sqlite-3.7.13-0", "system-5.8-1", "tk-8.5.13-0", "unixodbc-2.3.1-0", "zlib-1.2.7-0",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
}

// test_unsat_shortest_chain_4: the explanation is a needs py =3.7.1 against
// the requested py=3.6.1, without the py_req detour.
func TestCondaUnsatShortestChain4(t *testing.T) {
	ix := repodata.NewIndex([]string{"https://conda.example/test"}, []repodata.Record{
		rec("a", "1.0", "py =3.7.1"), rec("py_req_1", "1.0"), rec("py_req_2", "1.0"),
		rec("py", "3.7.1", "py_req_1", "py_req_2"), rec("py", "3.6.1", "py_req_1", "py_req_2"),
	})
	_, _, err := Solve(ix, []string{"a", "py=3.6.1"}, Options{})
	var ue *UnsatisfiableError
	if !errors.As(err, &ue) {
		t.Fatalf("want an explanation, got %v", err)
	}
	want := []string{
		"a was requested: a 1.0",
		"py=3.6.1 was requested: py 3.6.1",
		"a 1.0 needs py =3.7.1: py 3.7.1",
		"only one py can be installed, and no py matches all of py=3.6.1 (requested) and py =3.7.1 (needed by a 1.0)",
	}
	if !slices.Equal(ue.Steps, want) {
		t.Errorf("explanation:\n%s\nwant:\n%s", strings.Join(ue.Steps, "\n"), strings.Join(want, "\n"))
	}
}
