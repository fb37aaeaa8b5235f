// Package tags decides which wheels install on a target interpreter and
// platform (PEP 425 compatibility tags, PEP 600 manylinux, PEP 656
// musllinux) and ranks them as pip does.
package tags

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/envkit/envkit/internal/pypi/pep440"
	"github.com/envkit/envkit/internal/pypi/pep508"
)

// Target is the interpreter and platform wheels are chosen for.
type Target struct {
	// PythonVersion is CPython's "major.minor" ("3.11").
	PythonVersion string
	// Subdir is the conda platform ("linux-64").
	Subdir string
	// Glibc is the image's glibc "major.minor" ("2.28"); manylinux wheels
	// up to it install. Empty with Musl set means a musl libc system.
	Glibc string
	// Musl is the musl "major.minor" ("1.2") for musllinux wheels.
	Musl string
}

// Wheel is a parsed wheel file name (PEP 427).
type Wheel struct {
	Name    string
	Version string
	Build   string
	// Tags are the expanded python-abi-platform triples.
	Tags []string
}

// ParseWheelName reads "name-1.0(-build)?-py3-none-any.whl".
func ParseWheelName(file string) (Wheel, error) {
	base, ok := strings.CutSuffix(file, ".whl")
	if !ok {
		return Wheel{}, fmt.Errorf("%s: not a wheel file name (no .whl)", file)
	}
	parts := strings.Split(base, "-")
	if len(parts) != 5 && len(parts) != 6 {
		return Wheel{}, fmt.Errorf("%s: want name-version(-build)-python-abi-platform.whl", file)
	}
	w := Wheel{Name: parts[0], Version: parts[1]}
	if len(parts) == 6 {
		w.Build = parts[2]
		if w.Build == "" || w.Build[0] < '0' || w.Build[0] > '9' {
			return Wheel{}, fmt.Errorf("%s: build tag %q must start with a digit", file, w.Build)
		}
	}
	n := len(parts)
	for _, py := range strings.Split(parts[n-3], ".") {
		for _, abi := range strings.Split(parts[n-2], ".") {
			for _, plat := range strings.Split(parts[n-1], ".") {
				if py == "" || abi == "" || plat == "" {
					return Wheel{}, fmt.Errorf("%s: empty compatibility tag", file)
				}
				w.Tags = append(w.Tags, strings.ToLower(py+"-"+abi+"-"+plat))
			}
		}
	}
	return w, nil
}

// Supported lists the tags the target accepts, most preferred first, in
// the order pip's packaging.tags.sys_tags gives for CPython.
func Supported(t Target) ([]string, error) {
	machine, err := pep508.Machine(t.Subdir)
	if err != nil {
		return nil, err
	}
	major, minor, err := majorMinor(t.PythonVersion)
	if err != nil {
		return nil, fmt.Errorf("python version %q: %v", t.PythonVersion, err)
	}
	if major != 3 {
		return nil, fmt.Errorf("python version %q: only CPython 3 wheels are selected", t.PythonVersion)
	}
	plats, err := platforms(t, machine)
	if err != nil {
		return nil, err
	}
	cp := fmt.Sprintf("cp%d%d", major, minor)
	var out []string
	add := func(py, abi string, ps []string) {
		for _, p := range ps {
			out = append(out, py+"-"+abi+"-"+p)
		}
	}
	add(cp, cp, plats)
	add(cp, "abi3", plats)
	add(cp, "none", plats)
	// abi3 wheels built for an older CPython 3 run on newer ones.
	for m := minor - 1; m >= 2; m-- {
		add(fmt.Sprintf("cp%d%d", major, m), "abi3", plats)
	}
	pys := []string{fmt.Sprintf("py%d%d", major, minor), "py3"}
	for m := minor - 1; m >= 0; m-- {
		pys = append(pys, fmt.Sprintf("py%d%d", major, m))
	}
	for _, py := range pys {
		add(py, "none", plats)
	}
	add(cp, "none", []string{"any"})
	for _, py := range pys {
		add(py, "none", []string{"any"})
	}
	return out, nil
}

// platforms lists manylinux (newest glibc first) or musllinux tags, then
// the legacy manylinux aliases pip still accepts.
func platforms(t Target, machine string) ([]string, error) {
	var out []string
	if t.Musl != "" {
		major, minor, err := majorMinor(t.Musl)
		if err != nil {
			return nil, fmt.Errorf("musl version %q: %v", t.Musl, err)
		}
		for m := minor; m >= 0; m-- {
			out = append(out, fmt.Sprintf("musllinux_%d_%d_%s", major, m, machine))
		}
		return out, nil
	}
	glibc := t.Glibc
	if glibc == "" {
		glibc = DefaultGlibc
	}
	major, minor, err := majorMinor(glibc)
	if err != nil {
		return nil, fmt.Errorf("glibc version %q: %v", glibc, err)
	}
	if major != 2 {
		return nil, fmt.Errorf("glibc version %q: want 2.x", glibc)
	}
	for m := minor; m >= 5; m-- {
		out = append(out, fmt.Sprintf("manylinux_2_%d_%s", m, machine))
		switch {
		case m == 17:
			out = append(out, "manylinux2014_"+machine)
		case m == 12 && (machine == "x86_64" || machine == "i686"):
			out = append(out, "manylinux2010_"+machine)
		case m == 5 && (machine == "x86_64" || machine == "i686"):
			out = append(out, "manylinux1_"+machine)
		}
	}
	return out, nil
}

// DefaultGlibc is assumed when the target names no libc: the glibc of
// manylinux_2_28 (Debian 10+, Ubuntu 20.04+, RHEL 8+), which the common ML
// base images meet.
const DefaultGlibc = "2.28"

func majorMinor(s string) (int, int, error) {
	a, b, ok := strings.Cut(s, ".")
	if !ok {
		return 0, 0, fmt.Errorf("want major.minor")
	}
	b, _, _ = strings.Cut(b, ".")
	major, err1 := strconv.Atoi(a)
	minor, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil || major < 0 || minor < 0 {
		return 0, 0, fmt.Errorf("want major.minor")
	}
	return major, minor, nil
}

// Ranking gives each supported tag its preference (0 is best).
type Ranking map[string]int

// NewRanking ranks the target's supported tags.
func NewRanking(t Target) (Ranking, error) {
	tags, err := Supported(t)
	if err != nil {
		return nil, err
	}
	r := make(Ranking, len(tags))
	for i, tag := range tags {
		if _, ok := r[tag]; !ok {
			r[tag] = i
		}
	}
	return r, nil
}

// Rank returns the best rank among the wheel's tags, or false when none
// is supported.
func (r Ranking) Rank(w Wheel) (int, bool) {
	best, ok := 0, false
	for _, tag := range w.Tags {
		if i, found := r[tag]; found && (!ok || i < best) {
			best, ok = i, true
		}
	}
	return best, ok
}

// RequiresPython reports whether the target's python satisfies a
// Requires-Python value ("" always does).
func RequiresPython(spec, pythonVersion string) (bool, error) {
	if strings.TrimSpace(spec) == "" {
		return true, nil
	}
	ss, err := pep440.ParseSpecifiers(spec)
	if err != nil {
		return false, fmt.Errorf("Requires-Python %q: %v", spec, err)
	}
	v, err := pep440.Parse(pythonVersion)
	if err != nil {
		return false, err
	}
	return ss.Contains(v), nil
}
