package version

import (
	"strings"
	"testing"
)

func specMatches(t *testing.T, spec, v string) bool {
	t.Helper()
	s, err := ParseSpec(spec)
	if err != nil {
		t.Fatalf("ParseSpec(%q): %v", spec, err)
	}
	return s.Matches(MustParse(v))
}

// TestSpecMatch is conda tests/models/test_version.py::test_match: each spec
// against "1.7.1"; conda also asserts str(spec) is the input unchanged.
func TestSpecMatch(t *testing.T) {
	for _, c := range []struct {
		spec string
		want bool
	}{
		{"1.7.*", true},
		{"1.7.1", true},
		{"1.7.0", false},
		{"1.7", false},
		{"1.5.*", false},
		{">=1.5", true},
		{"!=1.5", true},
		{"!=1.7.1", false},
		{"==1.7.1", true},
		{"==1.7", false},
		{"==1.7.2", false},
		{"==1.7.1.0", true},
		{"1.7.*|1.8.*", true},
		{">1.7,<1.8", true},
		{">1.7.1,<1.8", false},
		{"^1.7.1$", true},
		{`^1\.7\.1$`, true},
		{`^1\.7\.[0-9]+$`, true},
		{`^1\.8.*$`, false},
		{`^1\.[5-8]\.1$`, true},
		{`^[^1].*$`, false},
		{`^[0-9+]+\.[0-9+]+\.[0-9]+$`, true},
		{"^$", false},
		{"^.*$", true},
		{"1.7.*|^0.*$", true},
		{"1.6.*|^0.*$", false},
		{"1.6.*|^0.*$|1.7.1", true},
		{"^0.*$|1.7.1", true},
		{`1.6.*|^.*\.7\.1$|0.7.1`, true},
		{"*", true},
		{"1.*.1", true},
		{"1.5.*|>1.7,<1.8", true},
		{"1.5.*|>1.7,<1.7.1", false},
	} {
		s, err := ParseSpec(c.spec)
		if err != nil {
			t.Errorf("ParseSpec(%q): %v", c.spec, err)
			continue
		}
		if got := s.Matches(MustParse("1.7.1")); got != c.want {
			t.Errorf("ParseSpec(%q).Matches(1.7.1) = %v, want %v", c.spec, got, c.want)
		}
		if got := s.String(); got != c.spec {
			t.Errorf("ParseSpec(%q).String() = %q", c.spec, got)
		}
	}
}

// TestVerEval is conda test_version.py::test_ver_eval, test_not_eq_star,
// test_compound_versions, test_compatible_release_versions and
// test_local_identifier.
func TestVerEval(t *testing.T) {
	for _, c := range []struct {
		version, spec string
		want          bool
	}{
		{"1.7.0", "==1.7", true},
		{"1.7.0", "<=1.7", true},
		{"1.7.0", "<1.7", false},
		{"1.7.0", ">=1.7", true},
		{"1.7.0", ">1.7", false},
		{"1.6.7", ">=1.7", false},
		{"2013a", ">2013b", false},
		{"2013k", ">2013b", true},
		{"3.0.0", ">2013b", false},
		{"1.0.0", ">1.0.0a", true},
		{"1.0.0", ">1.0.0*", true},
		{"1.0", "1.0*", true},
		{"1.0.0", "1.0*", true},
		{"1.0", "1.0.0*", true},
		{"1.0.1", "1.0.0*", false},
		{"2013a", "2013a*", true},
		{"2013a", "2013b*", false},
		{"2013ab", "2013a*", true},
		{"1.3.4", "1.2.4*", false},
		{"1.2.3+4.5.6", "1.2.3*", true},
		{"1.2.3+4.5.6", "1.2.3+4*", true},
		{"1.2.3+4.5.6", "1.2.3+5*", false},
		{"1.2.3+4.5.6", "1.2.4+5*", false},

		{"3.3.1", "=3.3", true},
		{"3.3", "=3.3", true},
		{"3.4", "=3.3", false},
		{"3.3.1", "3.3.*", true},
		{"3.3", "3.3.*", true},
		{"3.4", "3.3.*", false},
		{"3.3.1", "=3.3.*", true},
		{"3.3", "=3.3.*", true},
		{"3.4", "=3.3.*", false},
		{"3.3.1", "!=3.3.*", false},
		{"3.4", "!=3.3.*", true},
		{"3.4.1", "!=3.3.*", true},
		{"3.3.1", "!=3.3", true},
		{"3.3.0.0", "!=3.3", false},
		{"3.3.0.0", "!=3.3.*", false},

		{"2.6.8", ">=2.7, !=3.0.*, !=3.1.*, !=3.2.*, !=3.3.*", false},
		{"2.7.2", ">=2.7, !=3.0.*, !=3.1.*, !=3.2.*, !=3.3.*", true},
		{"3.3", ">=2.7, !=3.0.*, !=3.1.*, !=3.2.*, !=3.3.*", false},
		{"3.3.4", ">=2.7, !=3.0.*, !=3.1.*, !=3.2.*, !=3.3.*", false},
		{"3.4", ">=2.7, !=3.0.*, !=3.1.*, !=3.2.*, !=3.3.*", true},
		{"3.4a", ">=2.7, !=3.0.*, !=3.1.*, !=3.2.*, !=3.3.*", true},

		{"1.11.0", "~=1.10", true},
		{"1.11.0", "~=1.10.0", false},
		{"3.4.0", "~=3.3.2", false},
		{"3.3.1", "~=3.3.2", false},
		{"3.3.2.0", "~=3.3.2", true},
		{"3.3.3", "~=3.3.2", true},
		{"2.2.0", "~=3.3.2|==2.2", true},
		{"3.3.3", "~=3.3.2|==2.2", true},
		{"2.2.1", "~=3.3.2|==2.2", false},

		{"1.7.0", "1.7.0", true},
		{"1.7.0.post123", "1.7.0.post123", true},
		{"1.7.0.post123.gabcdef9", "1.7.0.post123.gabcdef9", true},
		{"1.7.0.post123+gabcdef9", "1.7.0.post123+gabcdef9", true},

		// conda: ">=X.*" and "==X.*" drop the ".*".
		{"1.8", ">=1.7.*", true},
		{"1.7.1", "==1.7.*", false},
		{"1.7", "==1.7.*", true},
		// A literal with '@' is matched as text, which no valid version has.
		{"1.0", "1.0@abc", false},
		// Globs and regexes see the text as written (conda: case-sensitive).
		{"1.0RC1", "1.*RC1", true},
		{"1.0rc1", "1.*RC1", false},
	} {
		if got := specMatches(t, c.spec, c.version); got != c.want {
			t.Errorf("ParseSpec(%q).Matches(%q) = %v, want %v", c.spec, c.version, got, c.want)
		}
	}
}

func TestSpecString(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		// conda test_version_spec_3/4: a trailing "*" is written ".*".
		{"1.7.1*", "1.7.1.*"},
		{"1.7.1*,1.8.1*", "1.7.1.*,1.8.1.*"},
		{"=1.7", "1.7.*"},
		{"=1.7.*", "1.7.*"},
		{">=1.7.*", ">=1.7"},
		{"!=1.7.*", "!=1.7.*"},
		{" >=1.0 , <2.0 ", ">=1.0,<2.0"},
		{"1.2.3,4.5.6|<=7.8.9", "1.2.3,4.5.6|<=7.8.9"},
		{"(1.2.3|4.5.6),<=7.8.9", "(1.2.3|4.5.6),<=7.8.9"},
		// conda prints "1.5|1.6|1.7,1.8,1.9|2.0|2.1" here
		// (test_version_spec_2), which reads back differently; envkit keeps
		// the parentheses the meaning needs.
		{"( (1.5|((1.6|1.7), 1.8), 1.9 |2.0))|2.1", "1.5|(1.6|1.7),1.8,1.9|2.0|2.1"},
		{"1.5|(1.6|1.7),1.8,1.9|2.0|2.1", "1.5|(1.6|1.7),1.8,1.9|2.0|2.1"},
		{"((1.0))", "1.0"},
		// A literal that keeps a '*' is written as given: "1**" is
		// starts-with "1*", while "1*.*" would be a glob.
		{"1**", "1**"},
		{"=1.*.2", "=1.*.2"},
		{"1.0RC", "1.0RC"},
		{"^1\\.0|2\\.0$,>1", "^1\\.0|2\\.0$,>1"},
	} {
		s, err := ParseSpec(c.in)
		if err != nil {
			t.Errorf("ParseSpec(%q): %v", c.in, err)
			continue
		}
		if got := s.String(); got != c.want {
			t.Errorf("ParseSpec(%q).String() = %q, want %q", c.in, got, c.want)
		}
		again, err := ParseSpec(s.String())
		if err != nil || again.String() != s.String() {
			t.Errorf("ParseSpec(%q) does not read back: %v, %v", s.String(), again, err)
		}
	}
}

// TestSpecErrors collects conda's test_version_spec_2, test_ver_eval_errors,
// test_invalid_version_specs, test_compatible_release_versions and
// test_pep_440_arbitrary_equality_operator rejections, plus envkit's
// stricter cases; each error names the offending part.
func TestSpecErrors(t *testing.T) {
	for _, c := range []struct{ in, reason string }{
		{"(1.5", `missing ")"`},
		{"1.5)", `unmatched ")"`},
		{"1.5||1.6", `empty version constraint at "||"`},
		{">=1.2,,3", `empty version constraint at ",,"`},
		{"1.2,", `empty version constraint after ","`},
		{"|1.2", `empty version constraint at "|"`},
		{"^1.5", `must start with '^' and end with '$'`},
		{"><2.4.5", "invalid operator"},
		{"!!2.4.5", "invalid operator"},
		{"!", "invalid operator"},
		{"~", "invalid operator"},
		{"^", "must start with '^'"},
		{"1.2+", "invalid version"},
		{"+1.2", "invalid version"},
		{"+1.2+", "invalid version"},
		{"++", "invalid version"},
		{"c +, 0/|0 *", "invalid version"},
		{")|(", "empty version constraint"},
		{"=)(=b", "without a version"},
		{"==", "without a version"},
		{"=", "without a version"},
		{">=", "without a version"},
		{"<=", "without a version"},
		{"~=3.3.2.*", "cannot follow ~="},
		{"===3.3.2", "invalid operator"},
		{"~=3", "at least two components"},
		{"", "empty version spec"},
		{"()", "empty version constraint"},
		{"(1.0)(2.0)", `unexpected "(2.0)"`},
		{"^1$2", `unexpected "2" after "^1$"`},
		{">= 1.0", "space after operator"},
		{"^(a$", "regex"},
	} {
		_, err := ParseSpec(c.in)
		if err == nil {
			t.Errorf("ParseSpec(%q) succeeded, want an error about %s", c.in, c.reason)
			continue
		}
		if !strings.Contains(err.Error(), c.reason) {
			t.Errorf("ParseSpec(%q) = %v, want it to mention %s", c.in, err, c.reason)
		}
	}
}
