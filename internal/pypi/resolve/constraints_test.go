package resolve

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/envkit/envkit/internal/pypi/metadata"
	"github.com/envkit/envkit/internal/pypi/pypitest"
	"github.com/envkit/envkit/internal/spec"
)

// constrained is a definition's pip lines followed by lines of a -c file.
func constrained(t *testing.T, ix *pypitest.Index, reqs []string, cons ...string) Input {
	t.Helper()
	ls := lines(append([]string{"--index-url " + ix.URL}, reqs...)...)
	for i, c := range cons {
		ls = append(ls, spec.Requirement{Spec: c, Constraint: true, Pos: spec.Pos{File: "constraints.txt", Line: i + 1, Col: 1}})
	}
	in, err := ParseLines(ls)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func TestConstraintsLimitAndNeverAdd(t *testing.T) {
	ix := pypitest.Serve(world, true)
	defer ix.Server.Close()
	for _, c := range []struct {
		reqs, cons []string
		want       string
	}{
		// Limits a dependency: lib<2 leaves app 1.0 (app 2.0 needs lib>=2).
		{[]string{"app"}, []string{"lib<2"}, "app==1.0 lib==1.5"},
		// Adds nothing: neither util nor helper is installed for these.
		{[]string{"lib==1.5"}, []string{"util==1.0", "helper<2"}, "lib==1.5"},
		// A marker that does not hold leaves the constraint out.
		{[]string{"app"}, []string{`lib<2; python_version < "3"`}, "app==1.0 helper==2.0 lib==2.0"},
		// Several constraints on a name all hold.
		{[]string{"helper"}, []string{"helper>=1", "helper!=2.0"}, "helper==1.0"},
	} {
		res, err := Resolve(context.Background(), constrained(t, ix, c.reqs, c.cons...), target, Options{})
		if err != nil {
			t.Errorf("%v -c %v: %v", c.reqs, c.cons, err)
			continue
		}
		if got := show(res); got != c.want {
			t.Errorf("%v -c %v: %s, want %s", c.reqs, c.cons, got, c.want)
		}
	}
	// A constraint nothing satisfies is named at its line.
	_, err := Resolve(context.Background(), constrained(t, ix, []string{"lib"}, "lib>5"), target, Options{})
	if err == nil || !strings.Contains(err.Error(), "lib>5 from the constraints (constraints.txt:1:1)") {
		t.Errorf("error %v", err)
	}
	// A constraint on a package conda installs is not an overlap of its own.
	res, err := Resolve(context.Background(), constrained(t, ix, []string{"needs-numpy"}, "numpy>=1.26"), target, Options{Provided: map[string]string{"numpy": "1.26.4"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Overlap) != 1 || res.Overlap[0].RequiredBy != "needs-numpy 1.0" {
		t.Errorf("overlap %+v", res.Overlap)
	}
}

func TestConstraintLinesRefused(t *testing.T) {
	for line, want := range map[string]string{
		"requests[socks]<3": "constraints cannot have extras",
		"./x.whl":           "unnamed requirements are not allowed as constraints",
	} {
		_, err := ParseLines([]spec.Requirement{{Spec: line, Constraint: true, Pos: spec.Pos{File: "c.txt", Line: 3, Col: 1}}})
		if err == nil || !strings.HasPrefix(err.Error(), "c.txt:3:1: "+line+": ") || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", line, err, want)
		}
	}
}

// TestLocalWheel: a wheel file is pinned as named, by its path and
// digest; its dependencies come from the index, with the constraints.
func TestLocalWheel(t *testing.T) {
	ix := pypitest.Serve(world, true)
	defer ix.Server.Close()
	local := pypitest.Dist{Name: "my-model", Version: "0.3", Requires: []string{"lib"}}
	data := local.Build()
	m, err := metadata.FromWheel(data)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	sha := hex.EncodeToString(sum[:])
	wheelLine := func(file string) spec.Requirement {
		return spec.Requirement{Spec: "./" + file, Wheel: &spec.FileDigest{Path: file, Digest: "sha256:" + sha}, Pos: spec.Pos{File: "env.yml", Line: 9, Col: 7}}
	}
	in := constrained(t, ix, nil, "lib<2")
	more, err := ParseLines([]spec.Requirement{wheelLine("wheels/" + local.Filename())})
	if err != nil {
		t.Fatal(err)
	}
	in.Wheels = more.Wheels
	in.Wheels[0].Metadata = &m
	res, err := Resolve(context.Background(), in, target, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := show(res); got != "lib==1.5 my-model==0.3" {
		t.Fatalf("pins %s", got)
	}
	p := res.Pins[1]
	if p.URL != "wheels/my_model-0.3-py3-none-any.whl" || p.SHA256 != sha || p.Requires["lib"] != "" {
		t.Errorf("pin %+v", p)
	}
	if got, ok := spec.LocalWheelPath(LockPackages(res.Pins, "linux-64")[1].URL); !ok || got != p.URL {
		t.Errorf("the lock's url %q is not read back as a local wheel", p.URL)
	}
	// The file name and METADATA must agree; the python must fit.
	for _, c := range []struct {
		file string
		meta metadata.Metadata
		want string
	}{
		{"other-0.3-py3-none-any.whl", m, "env.yml:9:7: other-0.3-py3-none-any.whl: METADATA names project my-model"},
		{"my_model-0.4-py3-none-any.whl", m, "METADATA says version 0.3"},
		{local.Filename(), metadata.Metadata{Name: "my-model", Version: "0.3", RequiresPython: ">=3.12"}, "requires python >=3.12, the environment has 3.11"},
		{"my_model-0.3.tar.gz", m, "my_model-0.3.tar.gz: "},
	} {
		in, _ := ParseLines([]spec.Requirement{wheelLine(c.file)})
		in.Wheels[0].Metadata = &c.meta
		if _, err := Resolve(context.Background(), in, target, Options{}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.file, err, c.want)
		}
	}
}

// A wheel file's extras select more of its Requires-Dist; a marker that
// does not hold leaves the wheel out.
func TestLocalWheelExtrasAndMarker(t *testing.T) {
	ix := pypitest.Serve(world, true)
	defer ix.Server.Close()
	local := pypitest.Dist{Name: "my-model", Version: "0.3", Requires: []string{"lib==1.5", `helper; extra == "extra"`}, Extras: []string{"extra"}}
	data := local.Build()
	m, err := metadata.FromWheel(data)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	for line, want := range map[string]string{
		"./" + local.Filename():                                    "lib==1.5 my-model==0.3",
		"./" + local.Filename() + "[extra]":                        "helper==2.0 lib==1.5 my-model==0.3",
		"./" + local.Filename() + `[extra] ; python_version < "3"`: "",
	} {
		in, err := ParseLines(append(lines("--index-url "+ix.URL), spec.Requirement{Spec: line, Wheel: &spec.FileDigest{Path: local.Filename(), Digest: "sha256:" + hex.EncodeToString(sum[:])}}))
		if err != nil {
			t.Fatal(err)
		}
		in.Wheels[0].Metadata = &m
		res, err := Resolve(context.Background(), in, target, Options{})
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		if got := show(res); got != want {
			t.Errorf("%s: %q, want %q", line, got, want)
		}
	}
}
