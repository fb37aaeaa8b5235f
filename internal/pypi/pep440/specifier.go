package pep440

import (
	"fmt"
	"strings"
)

// Specifier is one clause such as ">=1.2" or "==2.*".
type Specifier struct {
	Op string
	// Version is the clause's version text as written (normalised
	// spacing), kept for "===" and for messages.
	Version string
	v       Version
	// wildcard marks "==1.2.*" and "!=1.2.*".
	wildcard bool
}

// Specifiers is a comma-separated list of clauses, all of which must hold.
// The empty list allows every version.
type Specifiers []Specifier

var operators = []string{"===", "~=", "==", "!=", "<=", ">=", "<", ">"}

// ParseSpecifiers reads "", ">=1.0,<2" or "==1.2.*".
func ParseSpecifiers(s string) (Specifiers, error) {
	var out Specifiers
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	for _, clause := range strings.Split(s, ",") {
		sp, err := ParseSpecifier(clause)
		if err != nil {
			return nil, err
		}
		out = append(out, sp)
	}
	return out, nil
}

// ParseSpecifier reads one clause.
func ParseSpecifier(s string) (Specifier, error) {
	t := strings.TrimSpace(s)
	for _, op := range operators {
		if !strings.HasPrefix(t, op) {
			continue
		}
		ver := strings.TrimSpace(t[len(op):])
		sp := Specifier{Op: op, Version: ver}
		if ver == "" {
			return Specifier{}, fmt.Errorf("invalid specifier %q: no version after %s", t, op)
		}
		if op == "===" {
			return sp, nil
		}
		if strings.HasSuffix(ver, ".*") {
			if op != "==" && op != "!=" {
				return Specifier{}, fmt.Errorf("invalid specifier %q: .* only follows == or !=", t)
			}
			sp.wildcard = true
			ver = strings.TrimSuffix(ver, ".*")
		}
		v, err := Parse(ver)
		if err != nil {
			return Specifier{}, fmt.Errorf("invalid specifier %q: %v", t, err)
		}
		if len(v.Local) > 0 && op != "==" && op != "!=" || len(v.Local) > 0 && sp.wildcard {
			return Specifier{}, fmt.Errorf("invalid specifier %q: a local version only follows == or !=", t)
		}
		if sp.wildcard && (v.HasDev || v.Local != nil) {
			return Specifier{}, fmt.Errorf("invalid specifier %q: .* after a development release", t)
		}
		if op == "~=" && len(v.Release) < 2 {
			return Specifier{}, fmt.Errorf("invalid specifier %q: ~= needs at least two release segments", t)
		}
		sp.v = v
		return sp, nil
	}
	return Specifier{}, fmt.Errorf("invalid specifier %q: want one of %s before the version", t, strings.Join(operators, " "))
}

func (s Specifier) String() string {
	if s.wildcard {
		return s.Op + s.v.String() + ".*"
	}
	if s.Op == "===" {
		return s.Op + s.Version
	}
	return s.Op + s.v.String()
}

func (ss Specifiers) String() string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = s.String()
	}
	return strings.Join(parts, ",")
}

// Contains reports whether v satisfies the clause. Pre-releases are
// matched like any version; Specifiers.Allows applies PEP 440's
// pre-release rule.
func (s Specifier) Contains(v Version) bool {
	switch s.Op {
	case "===":
		return strings.EqualFold(v.String(), s.Version)
	case "==":
		return s.equal(v)
	case "!=":
		return !s.equal(v)
	case "~=":
		// ~=2.2.1 means >=2.2.1, ==2.2.*.
		prefix := Specifier{Op: "==", wildcard: true, v: Version{Epoch: s.v.Epoch, Release: s.v.Release[:len(s.v.Release)-1]}}
		return Compare(v.withoutLocal(), s.v) >= 0 && prefix.equal(v)
	case "<=":
		return Compare(v.withoutLocal(), s.v) <= 0
	case ">=":
		return Compare(v.withoutLocal(), s.v) >= 0
	case "<":
		// <3 excludes 3.0a1 unless the clause itself names a pre-release.
		if Compare(v, s.v) >= 0 {
			return false
		}
		return s.v.IsPrerelease() || !v.IsPrerelease() || Compare(v.base(), s.v.base()) != 0
	case ">":
		if Compare(v.withoutLocal(), s.v) <= 0 {
			return false
		}
		// >1.7 excludes 1.7.post1 unless the clause names a post-release,
		// and 1.7+local always.
		if !s.v.HasPost && v.HasPost && Compare(v.base(), s.v.base()) == 0 {
			return false
		}
		return Compare(v.withoutLocal(), s.v) != 0
	}
	return false
}

func (s Specifier) equal(v Version) bool {
	if s.wildcard {
		// ==1.2.* compares the release padded to the prefix's length.
		if v.Epoch != s.v.Epoch {
			return false
		}
		w := s.v
		cand := v.Release
		n := len(w.Release)
		for len(cand) < n {
			cand = append(cand[:len(cand):len(cand)], 0)
		}
		if compareRelease(cand[:n], w.Release) != 0 {
			return false
		}
		if w.PreKind != "" || w.HasPost {
			// "==1.0rc1.*" is a prefix match of the full public version.
			return strings.HasPrefix(v.Public(), w.Public())
		}
		return true
	}
	if len(s.v.Local) == 0 {
		return Compare(v.withoutLocal(), s.v) == 0
	}
	return Compare(v, s.v) == 0
}

// Contains reports whether v satisfies every clause.
func (ss Specifiers) Contains(v Version) bool {
	for _, s := range ss {
		if !s.Contains(v) {
			return false
		}
	}
	return true
}

// NamesPrerelease reports whether a clause names a pre-release, which
// lets pre-releases match (PEP 440 "Handling of pre-releases").
func (ss Specifiers) NamesPrerelease() bool {
	for _, s := range ss {
		if s.Op != "!=" && s.Op != "===" && s.v.IsPrerelease() {
			return true
		}
	}
	return false
}

// Filter keeps the versions ss allows, in order. Pre-releases are kept when
// allowPre is set, when a clause names one, or when nothing else matches
// (packaging's SpecifierSet.filter).
func (ss Specifiers) Filter(vs []Version, allowPre bool) []Version {
	var final, pre []Version
	for _, v := range vs {
		if !ss.Contains(v) {
			continue
		}
		if v.IsPrerelease() && !allowPre && !ss.NamesPrerelease() {
			pre = append(pre, v)
			continue
		}
		final = append(final, v)
	}
	if len(final) == 0 {
		return pre
	}
	return final
}
