package pep508

import "testing"

func TestMarkers(t *testing.T) {
	env, err := TargetEnv("3.11", "linux-64")
	if err != nil {
		t.Fatal(err)
	}
	for marker, want := range map[string]bool{
		`python_version < "3.12"`:                                    true,
		`python_version >= '3.12'`:                                   false,
		`python_version > "3.1"`:                                     true, // versions, not strings
		`python_full_version == "3.11.0"`:                            true,
		`sys_platform == "win32"`:                                    false,
		`sys_platform == "linux" and platform_machine == "x86_64"`:   true,
		`sys_platform == "win32" or platform_machine == "x86_64"`:    true,
		`(os_name == "nt" or os_name == "posix") and extra == "gpu"`: false,
		`"linux" in sys_platform`:                                    true,
		`platform_machine not in "arm64 aarch64"`:                    true,
		`platform_python_implementation != 'PyPy'`:                   true,
		`python_implementation == "CPython"`:                         true,
		`os.name == "posix"`:                                         true,
		`python_version ~= "3.10"`:                                   true,
		`implementation_name == "cpython" and python_version<"3.8"`:  false,
	} {
		m, err := ParseMarker(marker)
		if err != nil {
			t.Errorf("ParseMarker(%q): %v", marker, err)
			continue
		}
		if got := m.Eval(env, nil); got != want {
			t.Errorf("%s = %v, want %v", marker, got, want)
		}
		again, err := ParseMarker(m.String())
		if err != nil || again.Eval(env, nil) != want {
			t.Errorf("%s printed as %s: %v", marker, m, err)
		}
	}
}

func TestExtras(t *testing.T) {
	m, err := ParseMarker(`extra == "Socks_Proxy" and python_version >= "3"`)
	if err != nil {
		t.Fatal(err)
	}
	env, _ := TargetEnv("3.10", "linux-aarch64")
	if !m.Eval(env, []string{"socks-proxy"}) || m.Eval(env, nil) || m.Eval(env, []string{"other"}) {
		t.Error("extra comparison should normalise names and need the extra")
	}
}

func TestInvalidMarkers(t *testing.T) {
	for _, s := range []string{``, `python_version`, `python_version <`, `foo == "1"`, `(python_version == "3"`,
		`python_version == "3" and`, `python_version == "3`, `"a" "b"`, `python_version == "3" xor os_name == "x"`} {
		if m, err := ParseMarker(s); err == nil {
			t.Errorf("ParseMarker(%q) = %v, want an error", s, m)
		}
	}
}

func TestRequirements(t *testing.T) {
	for in, want := range map[string]string{
		"requests": "requests",
		"Requests[Socks, security] >= 2.8.1, ==2.8.*": "Requests[security,socks]>=2.8.1,==2.8.*",
		"name (>=1.0)":                                            "name>=1.0",
		`pywin32>=1.0; sys_platform == "win32"`:                   `pywin32>=1.0; sys_platform == "win32"`,
		"pip @ https://example.com/pip-23.0-py3-none-any.whl":     "pip @ https://example.com/pip-23.0-py3-none-any.whl",
		`pip @ https://example.com/p.whl ; python_version >= "3"`: `pip @ https://example.com/p.whl ; python_version >= "3"`,
		"zope.interface~=5.0":                                     "zope.interface~=5.0",
	} {
		r, err := Parse(in)
		if err != nil {
			t.Errorf("Parse(%q): %v", in, err)
			continue
		}
		if r.String() != want {
			t.Errorf("Parse(%q) = %s, want %s", in, r, want)
		}
	}
	for _, in := range []string{"", "-e .", "./local", "name[", "name >=", "name;", "name @ ", "name==1.0 extra"} {
		if r, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %v, want an error", in, r)
		}
	}
	if NormaliseName("Foo.Bar__baz-") != "foo-bar-baz-" || NormaliseName("Zope.Interface") != "zope-interface" {
		t.Error("NormaliseName")
	}
}
