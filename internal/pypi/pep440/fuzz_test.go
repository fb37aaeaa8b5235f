package pep440

import "testing"

// FuzzParse: a parsed version prints to a spelling that parses to an equal
// version, and parsing never panics.
func FuzzParse(f *testing.F) {
	for _, s := range orderedVersions {
		f.Add(s)
	}
	f.Add("1.0-alpha_1.post-2.dev+Ubuntu-1")
	f.Fuzz(func(t *testing.T, s string) {
		v, err := Parse(s)
		if err != nil {
			return
		}
		w, err := Parse(v.String())
		if err != nil {
			t.Fatalf("Parse(%q) = %s, which does not parse: %v", s, v, err)
		}
		if Compare(v, w) != 0 || v.String() != w.String() {
			t.Fatalf("%q -> %s -> %s", s, v, w)
		}
	})
}

// FuzzSpecifiers: parsing never panics, and a parsed set prints to one that
// parses to the same text.
func FuzzSpecifiers(f *testing.F) {
	for _, c := range specifierCases {
		f.Add(c.spec, c.version)
	}
	f.Fuzz(func(t *testing.T, spec, version string) {
		ss, err := ParseSpecifiers(spec)
		if err != nil {
			return
		}
		again, err := ParseSpecifiers(ss.String())
		if err != nil || again.String() != ss.String() {
			t.Fatalf("%q -> %q -> %v %v", spec, ss, again, err)
		}
		if v, err := Parse(version); err == nil {
			if ss.Contains(v) != again.Contains(v) {
				t.Fatalf("%q and %q disagree on %s", ss, again, v)
			}
		}
	})
}
