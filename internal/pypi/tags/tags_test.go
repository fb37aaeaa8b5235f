package tags

import (
	"slices"
	"testing"
)

func TestWheelSelection(t *testing.T) {
	target := Target{PythonVersion: "3.11", Subdir: "linux-64", Glibc: "2.31"}
	r, err := NewRanking(target)
	if err != nil {
		t.Fatal(err)
	}
	// Real wheel names from PyPI, best first for CPython 3.11 on glibc 2.31.
	ordered := []string{
		"numpy-1.26.4-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
		"pyyaml-6.0.1-cp311-none-manylinux1_x86_64.whl",
		"cryptography-42.0.5-cp39-abi3-manylinux_2_28_x86_64.whl",
		"cryptography-42.0.5-cp37-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
		"six-1.16.0-py2.py3-none-any.whl",
	}
	prev := -1
	for _, name := range ordered {
		w, err := ParseWheelName(name)
		if err != nil {
			t.Fatal(err)
		}
		rank, ok := r.Rank(w)
		if !ok {
			t.Errorf("%s: not installable", name)
			continue
		}
		if rank <= prev {
			t.Errorf("%s ranks %d, not after %d", name, rank, prev)
		}
		prev = rank
	}
	for _, name := range []string{
		"numpy-1.26.4-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", // other python
		"numpy-1.26.4-cp311-cp311-manylinux_2_34_x86_64.whl",                      // newer glibc
		"numpy-1.26.4-cp311-cp311-musllinux_1_1_x86_64.whl",                       // musl
		"numpy-1.26.4-cp311-cp311-manylinux_2_17_aarch64.whl",                     // other machine
		"numpy-1.26.4-cp311-cp311-win_amd64.whl",
		"numpy-1.26.4-pp39-pypy39_pp73-manylinux_2_17_x86_64.whl",
		"futures-3.4.0-py2-none-any.whl",
		"cryptography-42.0.5-cp312-abi3-manylinux_2_28_x86_64.whl", // abi3 for a newer python
	} {
		w, err := ParseWheelName(name)
		if err != nil {
			t.Fatal(err)
		}
		if rank, ok := r.Rank(w); ok {
			t.Errorf("%s: rank %d, want not installable", name, rank)
		}
	}
}

func TestMusl(t *testing.T) {
	tags, err := Supported(Target{PythonVersion: "3.12", Subdir: "linux-aarch64", Musl: "1.2"})
	if err != nil {
		t.Fatal(err)
	}
	if tags[0] != "cp312-cp312-musllinux_1_2_aarch64" || !slices.Contains(tags, "cp312-cp312-musllinux_1_1_aarch64") || slices.Contains(tags, "cp312-cp312-manylinux_2_17_aarch64") {
		t.Errorf("musl tags: %v", tags[:3])
	}
}

func TestParseWheelName(t *testing.T) {
	w, err := ParseWheelName("pkg-1.0-build-py3-none-any.whl")
	if err == nil {
		t.Errorf("build tag must start with a digit: %+v", w)
	}
	w, err = ParseWheelName("Pkg_Name-2.0-7-py2.py3-none-any.whl")
	if err != nil || w.Build != "7" || !slices.Equal(w.Tags, []string{"py2-none-any", "py3-none-any"}) {
		t.Errorf("%+v %v", w, err)
	}
	for _, bad := range []string{"pkg-1.0.tar.gz", "pkg-1.0-py3-none.whl", "pkg-1.0-py3--any.whl"} {
		if _, err := ParseWheelName(bad); err == nil {
			t.Errorf("%s: want an error", bad)
		}
	}
}

func TestRequiresPython(t *testing.T) {
	for spec, want := range map[string]bool{"": true, ">=3.8": true, ">=3.12": false, ">=3.7,!=3.11.*": false, "~=3.10": true} {
		if got, err := RequiresPython(spec, "3.11"); err != nil || got != want {
			t.Errorf("%q: %v %v", spec, got, err)
		}
	}
}
