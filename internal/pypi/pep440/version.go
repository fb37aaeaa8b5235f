// Package pep440 parses and orders Python package versions and version
// specifiers as PEP 440 defines them (the rules pip and packaging apply).
package pep440

import (
	"cmp"
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Version is a parsed PEP 440 version. The zero value is not a version.
type Version struct {
	Epoch   uint64
	Release []uint64
	// PreKind is "a", "b" or "rc"; "" when there is no pre-release segment.
	PreKind string
	Pre     uint64
	HasPost bool
	Post    uint64
	HasDev  bool
	Dev     uint64
	// Local holds the local label's segments, lower-cased ("ubuntu", "1").
	Local []string
}

// The regular expression of PEP 440's appendix, which accepts every
// spelling pip normalises ("1.0-alpha_1", "v2", "1.0-1").
var versionRE = regexp.MustCompile(`^\s*v?` +
	`(?:(?P<epoch>[0-9]+)!)?` +
	`(?P<release>[0-9]+(?:\.[0-9]+)*)` +
	`(?P<pre>[-_.]?(?P<pre_l>alpha|a|beta|b|preview|pre|c|rc)[-_.]?(?P<pre_n>[0-9]+)?)?` +
	`(?P<post>(?:-(?P<post_n1>[0-9]+))|(?:[-_.]?(?P<post_l>post|rev|r)[-_.]?(?P<post_n2>[0-9]+)?))?` +
	`(?P<dev>[-_.]?(?P<dev_l>dev)[-_.]?(?P<dev_n>[0-9]+)?)?` +
	`(?:\+(?P<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?\s*$`)

var group = func() map[string]int {
	m := map[string]int{}
	for i, n := range versionRE.SubexpNames() {
		if n != "" {
			m[n] = i
		}
	}
	return m
}()

// Parse reads a version in any spelling PEP 440 accepts.
func Parse(s string) (Version, error) {
	m := versionRE.FindStringSubmatch(asciiLower(s))
	if m == nil {
		return Version{}, fmt.Errorf("invalid PEP 440 version %q", s)
	}
	num := func(name string) (uint64, error) {
		t := m[group[name]]
		if t == "" {
			return 0, nil
		}
		n, err := strconv.ParseUint(t, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("invalid PEP 440 version %q: %s is too large", s, t)
		}
		return n, nil
	}
	var v Version
	var err error
	if v.Epoch, err = num("epoch"); err != nil {
		return Version{}, err
	}
	for _, part := range strings.Split(m[group["release"]], ".") {
		n, err := strconv.ParseUint(part, 10, 64)
		if err != nil {
			return Version{}, fmt.Errorf("invalid PEP 440 version %q: %s is too large", s, part)
		}
		v.Release = append(v.Release, n)
	}
	if l := m[group["pre_l"]]; l != "" {
		switch l {
		case "alpha", "a":
			v.PreKind = "a"
		case "beta", "b":
			v.PreKind = "b"
		default:
			v.PreKind = "rc"
		}
		if v.Pre, err = num("pre_n"); err != nil {
			return Version{}, err
		}
	}
	if m[group["post"]] != "" {
		v.HasPost = true
		name := "post_n2"
		if m[group["post_n1"]] != "" {
			name = "post_n1"
		}
		if v.Post, err = num(name); err != nil {
			return Version{}, err
		}
	}
	if m[group["dev"]] != "" {
		v.HasDev = true
		if v.Dev, err = num("dev_n"); err != nil {
			return Version{}, err
		}
	}
	if l := m[group["local"]]; l != "" {
		v.Local = strings.FieldsFunc(l, func(r rune) bool { return r == '-' || r == '_' || r == '.' })
	}
	return v, nil
}

// asciiLower folds A-Z only: Unicode folding would turn "İ" into a valid "i".
func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

// MustParse is Parse for versions known to be valid (tests, tables).
func MustParse(s string) Version {
	v, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return v
}

// String gives the normalised spelling ("1.0a1.post2.dev3+local.1").
func (v Version) String() string {
	if len(v.Local) > 0 {
		return v.Public() + "+" + strings.Join(v.Local, ".")
	}
	return v.Public()
}

// Public is the version without its local label.
func (v Version) Public() string {
	var b strings.Builder
	if v.Epoch != 0 {
		fmt.Fprintf(&b, "%d!", v.Epoch)
	}
	for i, r := range v.Release {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strconv.FormatUint(r, 10))
	}
	if v.PreKind != "" {
		fmt.Fprintf(&b, "%s%d", v.PreKind, v.Pre)
	}
	if v.HasPost {
		fmt.Fprintf(&b, ".post%d", v.Post)
	}
	if v.HasDev {
		fmt.Fprintf(&b, ".dev%d", v.Dev)
	}
	return b.String()
}

// IsPrerelease reports a pre-release or development release.
func (v Version) IsPrerelease() bool { return v.PreKind != "" || v.HasDev }

// withoutLocal drops the local label.
func (v Version) withoutLocal() Version { v.Local = nil; return v }

// base is the epoch and release alone ("1!2.0" of "1!2.0rc1.post1").
func (v Version) base() Version { return Version{Epoch: v.Epoch, Release: v.Release} }

// Compare orders versions as packaging's Version does: -1, 0 or +1.
func Compare(a, b Version) int {
	if c := cmp.Compare(a.Epoch, b.Epoch); c != 0 {
		return c
	}
	if c := compareRelease(a.Release, b.Release); c != 0 {
		return c
	}
	if c := cmp.Compare(a.preRank(), b.preRank()); c != 0 {
		return c
	}
	if a.PreKind != "" && b.PreKind != "" {
		if c := cmp.Compare(a.Pre, b.Pre); c != 0 {
			return c
		}
	}
	if c := cmp.Compare(boolRank(a.HasPost), boolRank(b.HasPost)); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Post, b.Post); c != 0 {
		return c
	}
	// A development release sorts before the release it leads to.
	if c := cmp.Compare(boolRank(!a.HasDev), boolRank(!b.HasDev)); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Dev, b.Dev); c != 0 {
		return c
	}
	return compareLocal(a.Local, b.Local)
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// preRank places "1.0.dev0" before "1.0a0" before "1.0b0" before "1.0rc0"
// before "1.0" (packaging's _cmpkey).
func (v Version) preRank() int {
	switch {
	case v.PreKind == "" && !v.HasPost && v.HasDev:
		return 0
	case v.PreKind == "a":
		return 1
	case v.PreKind == "b":
		return 2
	case v.PreKind == "rc":
		return 3
	}
	return 4
}

// compareRelease ignores trailing zeros: 1.0 == 1.0.0.
func compareRelease(a, b []uint64) int {
	for i := 0; i < max(len(a), len(b)); i++ {
		var x, y uint64
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if c := cmp.Compare(x, y); c != 0 {
			return c
		}
	}
	return 0
}

// compareLocal: no label sorts first; numeric segments sort after
// alphanumeric ones and numerically among themselves; a longer label that
// extends a shorter one sorts after it.
func compareLocal(a, b []string) int {
	for i := 0; i < min(len(a), len(b)); i++ {
		an, aNum := numeric(a[i])
		bn, bNum := numeric(b[i])
		switch {
		case aNum && bNum:
			if c := an.Cmp(bn); c != 0 {
				return c
			}
		case aNum:
			return 1
		case bNum:
			return -1
		default:
			if c := cmp.Compare(a[i], b[i]); c != 0 {
				return c
			}
		}
	}
	return cmp.Compare(len(a), len(b))
}

func numeric(s string) (*big.Int, bool) {
	for _, r := range s {
		if r < '0' || r > '9' {
			return nil, false
		}
	}
	n, _ := new(big.Int).SetString(s, 10)
	return n, true
}

// Sort orders versions from oldest to newest.
func Sort(vs []Version) { slices.SortStableFunc(vs, Compare) }
