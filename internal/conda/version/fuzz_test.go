package version

import "testing"

func FuzzParseVersion(f *testing.F) {
	for _, c := range condaVersionOrder {
		f.Add(c.in, "1.0")
	}
	for _, s := range []string{"1!2.0+local.1", "1.0.1_", "1__", "1.0-1", "0.0.20190712172645", "99999999999999999999999", "1.2devdev", "1.0post"} {
		f.Add(s, "1.0")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		va, err := Parse(a)
		if err != nil {
			return
		}
		again, err := Parse(va.String())
		if err != nil {
			t.Fatalf("Parse(%q) ok but its String %q fails: %v", a, va.String(), err)
		}
		if pyRepr(again) != pyRepr(va) || !again.Equal(va) {
			t.Fatalf("Parse(%q) = %s, but re-parsed %s", a, pyRepr(va), pyRepr(again))
		}
		if va.Compare(va) != 0 || !va.StartsWith(va) {
			t.Fatalf("%q not equal to itself", a)
		}
		vb, err := Parse(b)
		if err != nil {
			return
		}
		if va.Compare(vb) != -vb.Compare(va) {
			t.Fatalf("Compare(%q, %q) not antisymmetric", a, b)
		}
		if va.Compare(vb) != compareGeneral(va, vb) {
			t.Fatalf("Compare(%q, %q): shortcut disagrees with the general order", a, b)
		}
	})
}

func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{"1.7.*", ">=1.5,<2|1.0", "^1\\.7.*$", "1.*.1", "~=3.3.2|==2.2",
		"( (1.5|((1.6|1.7), 1.8), 1.9 |2.0))|2.1", "!=3.3.*", "=1.7", "1.0@x", ">=1.0.*", "1.7.**"} {
		f.Add(s, "1.7.1")
	}
	f.Fuzz(func(t *testing.T, spec, ver string) {
		s, err := ParseSpec(spec)
		if err != nil {
			return
		}
		again, err := ParseSpec(s.String())
		if err != nil {
			t.Fatalf("ParseSpec(%q).String() = %q does not parse: %v", spec, s.String(), err)
		}
		if again.String() != s.String() {
			t.Fatalf("ParseSpec(%q): String %q reads back as %q", spec, s.String(), again.String())
		}
		if v, err := Parse(ver); err == nil && s.Matches(v) != again.Matches(v) {
			t.Fatalf("ParseSpec(%q) and its String %q disagree on %q", spec, s.String(), ver)
		}
	})
}
