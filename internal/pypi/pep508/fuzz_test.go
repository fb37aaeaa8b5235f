package pep508

import "testing"

// FuzzParseMarker: never panics; a parsed marker prints to one that parses
// and evaluates the same.
func FuzzParseMarker(f *testing.F) {
	for _, s := range []string{`python_version < "3.12"`, `(os_name == "nt" or os_name == "posix") and extra == "gpu"`,
		`platform_machine not in "arm64 aarch64"`, `"linux" in sys_platform`, `python_version ~= "3.10"`} {
		f.Add(s)
	}
	env, _ := TargetEnv("3.11", "linux-64")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMarker(s)
		if err != nil {
			return
		}
		again, err := ParseMarker(m.String())
		if err != nil {
			t.Fatalf("%q printed as %q, which does not parse: %v", s, m, err)
		}
		for _, extras := range [][]string{nil, {"gpu"}} {
			if m.Eval(env, extras) != again.Eval(env, extras) {
				t.Fatalf("%q and %q disagree", m, again)
			}
		}
	})
}

// FuzzParseRequirement: never panics; a parsed requirement prints to one
// that parses to the same text.
func FuzzParseRequirement(f *testing.F) {
	for _, s := range []string{"requests[socks]>=2.8.1,==2.8.*", `pywin32>=1.0; sys_platform == "win32"`, "pip @ https://x/p.whl ; python_version >= \"3\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := Parse(s)
		if err != nil {
			return
		}
		again, err := Parse(r.String())
		if err != nil || again.String() != r.String() {
			t.Fatalf("%q -> %q -> %q %v", s, r, again, err)
		}
	})
}
