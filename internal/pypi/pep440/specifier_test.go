package pep440

import (
	"strings"
	"testing"
)

// Cases in the style of pypa/packaging's tests/test_specifiers.py
// (test_specifiers: version, specifier, expected).
var specifierCases = []struct {
	version, spec string
	want          bool
}{
	{"2.0", "==2", true}, {"2.0", "==2.0.0", true}, {"2.0+deadbeef", "==2", true},
	{"2.0+deadbeef", "==2.0+deadbeef", true}, {"2.0", "==2.0+deadbeef", false},
	{"2.0", "==2.*", true}, {"2.0.0", "==2.*", true}, {"2.1", "==2.0.*", false},
	{"2", "==2.0.*", true}, {"2.0rc1", "==2.0.*", true}, {"3.0", "==2.*", false},
	{"1!2.0", "==2.*", false}, {"2.0rc1", "==2.0rc1.*", true}, {"2.0rc10", "==2.0rc1.*", true},
	{"2.1", "!=2", true}, {"2.0", "!=2.*", false}, {"2.0+local", "!=2.0", false},
	{"2.1", "~=2.0", true}, {"3.0", "~=2.0", false}, {"2.0.5", "~=2.0.1", true},
	{"2.1.0", "~=2.0.1", false}, {"2.0.0.post1", "~=2.0.0", true}, {"1!2.1", "~=2.0", false},
	{"2.0", "<=2", true}, {"2.0+local", "<=2", true}, {"2.1", "<=2", false},
	{"2.0", ">=2", true}, {"2.0.dev1", ">=2", false}, {"2.0+local", ">=2", true},
	{"1.9", "<2", true}, {"2.0a1", "<2", false}, {"2.0a1", "<2.0b1", true}, {"2.0.dev0", "<2", false},
	{"1.9.post1", "<2", true}, {"2.0", "<2", false},
	{"2.1", ">2", true}, {"2.0.post1", ">2", false}, {"2.0.post2", ">2.0.post1", true},
	{"2.0+local", ">2", false}, {"2.0.1", ">2", true},
	{"2.0", "===2.0", true}, {"2.0", "===2", false}, {"foo", "===foo", false},
	{"1.5", ">=1.0,<2", true}, {"2.0", ">=1.0,<2", false},
}

func TestSpecifiers(t *testing.T) {
	for _, c := range specifierCases {
		ss, err := ParseSpecifiers(c.spec)
		if err != nil {
			t.Errorf("ParseSpecifiers(%q): %v", c.spec, err)
			continue
		}
		v, err := Parse(c.version)
		if err != nil {
			if c.want {
				t.Errorf("Parse(%q): %v", c.version, err)
			}
			continue
		}
		if got := ss.Contains(v); got != c.want {
			t.Errorf("%s contains %s = %v, want %v", c.spec, c.version, got, c.want)
		}
	}
}

func TestInvalidSpecifiers(t *testing.T) {
	for _, s := range []string{"2.0", "=>2", "~=2", ">=2.*", "<=2.0+local", "==", "~=1.0.*", "==2.0.dev1.*"} {
		if _, err := ParseSpecifiers(s); err == nil {
			t.Errorf("ParseSpecifiers(%q): want an error", s)
		}
	}
}

func TestFilterPrereleases(t *testing.T) {
	var vs []Version
	for _, s := range []string{"1.0", "1.1", "2.0a1", "2.0"} {
		vs = append(vs, MustParse(s))
	}
	show := func(vs []Version) string {
		var b []string
		for _, v := range vs {
			b = append(b, v.String())
		}
		return strings.Join(b, " ")
	}
	for spec, want := range map[string]string{
		">=1":        "1.0 1.1 2.0",
		">=2.0a1":    "2.0a1 2.0",
		">1.1,!=2.0": "2.0a1", // only a pre-release matches: it is used
		"":           "1.0 1.1 2.0",
	} {
		ss, _ := ParseSpecifiers(spec)
		if got := show(ss.Filter(vs, false)); got != want {
			t.Errorf("Filter(%q) = %s, want %s", spec, got, want)
		}
	}
}
