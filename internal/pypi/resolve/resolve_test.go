package resolve

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/envkit/envkit/internal/conda/lock"
	"github.com/envkit/envkit/internal/pypi/pypitest"
	"github.com/envkit/envkit/internal/spec"
)

var target = Target{PythonVersion: "3.11", Subdir: "linux-64"}

// lines turns pip lines into the definition's form, positions included.
func lines(ls ...string) []spec.Requirement {
	var out []spec.Requirement
	for i, l := range ls {
		out = append(out, spec.Requirement{Spec: l, Pos: spec.Pos{File: "environment.yml", Line: 10 + i, Col: 7}})
	}
	return out
}

func resolve(t *testing.T, dists []pypitest.Dist, json bool, opts Options, reqs ...string) (*Result, *pypitest.Index, error) {
	t.Helper()
	ix := pypitest.Serve(dists, json)
	t.Cleanup(ix.Server.Close)
	in, err := ParseLines(lines(append([]string{"--index-url " + ix.URL}, reqs...)...))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Resolve(context.Background(), in, target, opts)
	return res, ix, err
}

func show(res *Result) string {
	var b []string
	for _, p := range res.Pins {
		b = append(b, p.Name+"=="+p.Version)
	}
	return strings.Join(b, " ")
}

var world = []pypitest.Dist{
	{Name: "app", Version: "1.0", Requires: []string{"lib>=1", "util; python_version < '3'"}},
	{Name: "app", Version: "2.0", Requires: []string{"lib>=2", `gpu-kit; extra == "gpu"`, "helper<2"}, Extras: []string{"gpu"}},
	{Name: "lib", Version: "1.5"},
	{Name: "lib", Version: "2.0", Requires: []string{"helper>=2"}},
	{Name: "lib", Version: "2.1", Requires: []string{"helper>=2"}, RequiresPython: ">=3.12"},
	{Name: "lib", Version: "3.0a1"},
	{Name: "helper", Version: "1.0"},
	{Name: "helper", Version: "2.0"},
	{Name: "gpu-kit", Version: "0.1", Tag: "cp311-cp311-manylinux_2_17_x86_64"},
	{Name: "gpu-kit", Version: "0.2", Tag: "cp312-cp312-manylinux_2_17_x86_64"},
	{Name: "util", Version: "1.0"},
	{Name: "numpy", Version: "1.26.4", Tag: "cp311-cp311-manylinux_2_17_x86_64"},
	{Name: "needs-numpy", Version: "1.0", Requires: []string{"numpy>=1.20"}},
	{Name: "needs-old-numpy", Version: "1.0", Requires: []string{"numpy<1.20"}},
}

func TestBacktracksPastAConflict(t *testing.T) {
	for _, json := range []bool{true, false} {
		// app 2.0 needs lib>=2 (which needs helper>=2) and helper<2: no lib
		// works, so app falls back to 1.0. lib 2.1 needs python 3.12 and
		// 3.0a1 is a pre-release: neither is chosen.
		res, ix, err := resolve(t, world, json, Options{}, "app")
		if err != nil {
			t.Fatal(err)
		}
		if got := show(res); got != "app==1.0 lib==2.0 helper==2.0" && got != "app==1.0 helper==2.0 lib==2.0" {
			t.Errorf("json=%v: %s", json, got)
		}
		for _, p := range res.Pins {
			if p.SHA256 != ix.SHA256(p.Filename) || p.URL != ix.Server.URL+"/files/"+p.Filename {
				t.Errorf("%+v", p)
			}
		}
	}
}

func TestExtrasAndTags(t *testing.T) {
	res, _, err := resolve(t, world, true, Options{}, "app[GPU]==2.0", "lib==2.0", "helper==1.0")
	if err == nil {
		t.Fatalf("lib 2.0 needs helper>=2: %s", show(res))
	}
	res, _, err = resolve(t, world, true, Options{}, "gpu-kit", "lib>=1,<2")
	if err != nil {
		t.Fatal(err)
	}
	// 0.2 has only a cp312 wheel.
	if got := show(res); got != "gpu-kit==0.1 lib==1.5" {
		t.Errorf("%s", got)
	}
	if res.Pins[0].Filename != "gpu_kit-0.1-cp311-cp311-manylinux_2_17_x86_64.whl" {
		t.Errorf("%s", res.Pins[0].Filename)
	}
}

func TestPrereleases(t *testing.T) {
	res, _, err := resolve(t, world, true, Options{}, "lib>=3.0a1")
	if err != nil || show(res) != "lib==3.0a1" {
		t.Errorf("%v %v", res, err)
	}
	res, _, err = resolve(t, world, true, Options{}, "--pre", "lib")
	if err != nil || show(res) != "lib==3.0a1" {
		t.Errorf("--pre: %v %v", res, err)
	}
}

func TestUnresolvableNamesTheRequirement(t *testing.T) {
	for _, c := range []struct {
		reqs []string
		want []string
	}{
		{[]string{"lib>=5"}, []string{"no version of lib satisfies lib>=5 from the definition (environment.yml:11:7)", "2.0, 1.5"}},
		{[]string{"nonexistent"}, []string{"nonexistent (any version) from the definition (environment.yml:11:7): no such project"}},
		{[]string{"app==2.0", "helper==2.0"}, []string{"helper<2 from app 2.0", "helper==2.0 from the definition (environment.yml:12:7)"}},
		{[]string{"gpu-kit==0.2"}, []string{"gpu_kit-0.2-cp312-cp312-manylinux_2_17_x86_64.whl: no compatible tag"}},
	} {
		_, _, err := resolve(t, world, true, Options{}, c.reqs...)
		if err == nil {
			t.Errorf("%v: resolved", c.reqs)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v:\n%v\nwant it to contain %q", c.reqs, err, w)
			}
		}
	}
}

func TestCondaOverlap(t *testing.T) {
	opts := Options{Provided: map[string]string{"numpy": "1.26.0"}}
	res, _, err := resolve(t, world, true, opts, "needs-numpy", "NumPy")
	if err != nil {
		t.Fatal(err)
	}
	if show(res) != "needs-numpy==1.0" || len(res.Overlap) != 2 || res.Overlap[0].RequiredBy != "needs-numpy 1.0" {
		t.Errorf("%s %+v", show(res), res.Overlap)
	}
	// Also when numpy was already checked for the definition before
	// needs-old-numpy asked for an older one.
	for _, reqs := range [][]string{{"needs-old-numpy"}, {"numpy", "needs-old-numpy"}} {
		_, _, err = resolve(t, world, true, opts, reqs...)
		if err == nil || !strings.Contains(err.Error(), "numpy<1.20 from needs-old-numpy 1.0: the conda environment installs numpy 1.26.0") {
			t.Errorf("%v: %v", reqs, err)
		}
	}
}

func TestRefusedLines(t *testing.T) {
	for _, l := range []string{"-e .", "./pkg", "--no-binary :all:", "-c constraints.txt", "--weird", "-r https://x/req.txt"} {
		_, err := ParseLines(lines(l))
		if err == nil || !strings.HasPrefix(err.Error(), "environment.yml:10:7: ") {
			t.Errorf("%q: %v", l, err)
		}
	}
	in, err := ParseLines(lines("-ihttp://a/simple", "--extra-index-url=http://b/simple", "-f /wheels", "--no-index", "--trusted-host a"))
	if err != nil || in.Index.IndexURL != "http://a/simple" || in.Index.ExtraIndexURLs[0] != "http://b/simple" || in.Index.FindLinks[0] != "/wheels" || !in.Index.NoIndex {
		t.Errorf("%+v %v", in, err)
	}
}

func TestDirectURLAndLock(t *testing.T) {
	ix := pypitest.Serve(world, true)
	defer ix.Server.Close()
	name := "helper-1.0-py3-none-any.whl"
	in, err := ParseLines(lines("--index-url "+ix.URL, "lib==1.5", fmt.Sprintf("helper @ %s/files/%s#sha256=%s", ix.Server.URL, name, ix.SHA256(name))))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Resolve(context.Background(), in, target, Options{})
	if err != nil {
		t.Fatal(err)
	}
	pkgs := LockPackages(res.Pins, "linux-64")
	l := &lock.Lock{Metadata: lock.Metadata{Platforms: []string{"linux-64"}, ContentHash: map[string]string{"linux-64": "x"}}, Packages: pkgs}
	data, err := l.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := lock.Read("conda-lock.yml", data)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if len(back.Packages) != 2 || back.Packages[0].Manager != "pip" || back.Packages[0].Hash.SHA256 != ix.SHA256(name) {
		t.Errorf("%s", data)
	}
}

// TestExtrasAddedAfterThePin: web is pinned for the definition without
// extras; plugin, resolved later, needs web[socks], which adds socks.
func TestExtrasAddedAfterThePin(t *testing.T) {
	dists := []pypitest.Dist{
		{Name: "web", Version: "1.0", Extras: []string{"socks"}, Requires: []string{`socks-lib>=2; extra == "socks"`}},
		{Name: "plugin", Version: "1.0", Requires: []string{"web[socks]>=1"}},
		{Name: "socks-lib", Version: "2.0"},
		{Name: "socks-lib", Version: "1.0"},
	}
	res, _, err := resolve(t, dists, true, Options{}, "web", "plugin", "socks-lib")
	if err != nil {
		t.Fatal(err)
	}
	if got := show(res); got != "plugin==1.0 socks-lib==2.0 web==1.0" {
		t.Errorf("%s", got)
	}
	if res.Pins[2].Requires["socks-lib"] != ">=2" {
		t.Errorf("web's requires: %v", res.Pins[2].Requires)
	}
	// Here web[socks] wants socks-lib<2, but socks-lib 2.0 was pinned
	// before plugin asked for the extra: the search backs out to 1.0.
	dists[0].Requires = []string{`socks-lib<2; extra == "socks"`}
	res, _, err = resolve(t, dists, true, Options{}, "web", "socks-lib", "plugin")
	if err != nil || show(res) != "plugin==1.0 socks-lib==1.0 web==1.0" {
		t.Errorf("%v %v", res, err)
	}
}

// TestHashCheckingMode: "--hash" limits the choice to those files, even a
// wheel that is not the best ranked one.
func TestHashCheckingMode(t *testing.T) {
	dists := []pypitest.Dist{
		{Name: "tool", Version: "1.0"},
		{Name: "tool", Version: "1.0", Tag: "cp311-cp311-manylinux_2_17_x86_64"},
		{Name: "tool", Version: "2.0"},
	}
	ix := pypitest.Serve(dists, true)
	defer ix.Server.Close()
	pure := "tool-1.0-py3-none-any.whl"
	for reqLine, want := range map[string]string{
		"tool --hash=sha256:" + ix.SHA256(pure):                                                    pure,
		"tool==1.0 --hash sha256:" + strings.Repeat("0", 64) + " --hash=sha256:" + ix.SHA256(pure): pure,
		"tool==1.0": "tool-1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
		"tool --hash=sha256:" + strings.Repeat("1", 64): "error",
	} {
		in, err := ParseLines(lines("--index-url "+ix.URL, reqLine))
		if err != nil {
			t.Fatal(err)
		}
		res, err := Resolve(context.Background(), in, target, Options{})
		switch {
		case want == "error":
			if err == nil || !strings.Contains(err.Error(), "1 allowed hashes") {
				t.Errorf("%s: %v", reqLine, err)
			}
		case err != nil:
			t.Errorf("%s: %v", reqLine, err)
		case res.Pins[0].Filename != want:
			t.Errorf("%s: %s, want %s", reqLine, res.Pins[0].Filename, want)
		}
	}
	if _, err := ParseLines(lines("tool --hash=md5:abc")); err == nil {
		t.Error("md5 hash accepted")
	}
}
