package pep440

import (
	"testing"
)

// orderedVersions is the VERSIONS list of pypa/packaging's
// tests/test_version.py (commit 0345ccd3), which must sort in this order.
var orderedVersions = []string{
	"1.0.dev0", "1.0.dev456", "1.0.dev456+local", "1.0a0", "1.0a0.post0.dev0", "1.0a0.post0",
	"1.0a1.dev1", "1.0a1.dev1+local", "1.0a1", "1.0a1+local", "1.0b0", "1.0b1.dev456", "1.0b2",
	"1.0b2.post345.dev456", "1.0b2.post345", "1.0b2-346", "1.0rc0", "1.0rc1.dev1", "1.0c1", "1.0rc2",
	"1.0", "1.0.post0.dev0", "1.0.post0", "1.0.post456.dev34", "1.0.post456", "1.0.post456+local",
	"1.0.1.dev1", "1.0.1a1", "1.0.1", "1.0.1+local", "1.0.1.post1", "1.1.dev1",
	"1.2+a", "1.2+abc", "1.2+abcdef", "1.2+def", "1.2+0", "1.2+1", "1.2+1.abc", "1.2+1.1", "1.2+1.1.0",
	"1.2+2", "1.2+123", "1.2+123456", "1.2.r32+123456", "1.2.rev33+123456",
	"1!1.0.dev0", "1!1.0.dev456", "1!1.0.dev456+local", "1!1.0a0", "1!1.0a0.post0.dev0", "1!1.0a0.post0",
	"1!1.0a1.dev1", "1!1.0a1.dev1+local", "1!1.0a1", "1!1.0a1+local", "1!1.0b0", "1!1.0b1.dev456", "1!1.0b2",
	"1!1.0b2.post345.dev456", "1!1.0b2.post345", "1!1.0b2-346", "1!1.0rc0", "1!1.0rc1.dev1", "1!1.0c1", "1!1.0rc2",
	"1!1.0", "1!1.0.post0.dev0", "1!1.0.post0", "1!1.0.post456.dev34", "1!1.0.post456", "1!1.0.post456+local",
	"1!1.0.1.dev1", "1!1.0.1a1", "1!1.0.1", "1!1.0.1+local", "1!1.0.1.post1", "1!1.1.dev1",
	"1!1.2+a", "1!1.2+abc", "1!1.2+abcdef", "1!1.2+def", "1!1.2+0", "1!1.2+1", "1!1.2+1.abc", "1!1.2+1.1", "1!1.2+1.1.0",
	"1!1.2+2", "1!1.2+123", "1!1.2+123456", "1!1.2.r32+123456", "1!1.2.rev33+123456",
}

func TestOrderMatchesPackaging(t *testing.T) {
	vs := make([]Version, len(orderedVersions))
	for i, s := range orderedVersions {
		v, err := Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		vs[i] = v
	}
	for i := range vs {
		for j := range vs {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := Compare(vs[i], vs[j]); got != want {
				t.Errorf("Compare(%s, %s) = %d, want %d", orderedVersions[i], orderedVersions[j], got, want)
			}
		}
	}
}

// Normalisations from packaging's test_normalized_versions.
func TestNormalise(t *testing.T) {
	for in, want := range map[string]string{
		"1.0dev": "1.0.dev0", "1.0-DEV1": "1.0.dev1", "1.0.alpha1": "1.0a1", "1.0-A": "1.0a0",
		"1.0BETA": "1.0b0", "1.0c": "1.0rc0", "1.0-RC1": "1.0rc1", "1.0post": "1.0.post0",
		"1.0r": "1.0.post0", "1.0.rev1": "1.0.post1", "1.0-5": "1.0.post5", "1.0-r5": "1.0.post5",
		"1.0+AbC": "1.0+abc", "1.01": "1.1", "1.0c056": "1.0rc56", "1.0.post000": "1.0.post0",
		"00!1.2": "1.2", "0100!0.0": "100!0.0", "v1.0": "1.0", "   v1.0\t\n": "1.0",
		"1.0+ubuntu-1": "1.0+ubuntu.1", "7!1.0b2.post345.dev456": "7!1.0b2.post345.dev456",
	} {
		v, err := Parse(in)
		if err != nil {
			t.Errorf("Parse(%q): %v", in, err)
			continue
		}
		if v.String() != want {
			t.Errorf("Parse(%q) = %s, want %s", in, v, want)
		}
	}
}

// Invalid spellings from packaging's test_invalid_versions.
func TestInvalid(t *testing.T) {
	for _, in := range []string{"french toast", "1.0+a+", "1.0++", "1.0+_foobar", "1.0+foo&asd", "1.0+1+1",
		"1. 0", "1 .0", "1.0 a1", "1.0a 1", "٠١٢.٣٤٥.٦٧٨٩", ".", "..", "1..0", "1.0.", ".1.0", "1.0+\u0130", ""} {
		if v, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %s, want an error", in, v)
		}
	}
}
