package virtual

import (
	"strings"
	"testing"
)

func env(kv ...string) func(string) (string, bool) {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func specs(t *testing.T, platform string, lookup func(string) (string, bool)) string {
	t.Helper()
	rs, err := Packages(platform, lookup)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rs {
		if r.Channel != Channel || r.Subdir != platform {
			t.Errorf("%s: channel %q subdir %q", r.Name, r.Channel, r.Subdir)
		}
		out = append(out, r.Name+"="+r.Version+"="+r.Build)
	}
	return strings.Join(out, " ")
}

func TestDefaults(t *testing.T) {
	for platform, want := range map[string]string{
		"linux-64":      "__unix=0=0 __linux=5.10=0 __glibc=2.36=0 __archspec=1=x86_64",
		"linux-aarch64": "__unix=0=0 __linux=5.10=0 __glibc=2.36=0 __archspec=1=aarch64",
		"osx-arm64":     "__unix=0=0 __osx=11.0=0 __archspec=1=arm64",
		"win-64":        "__win=0=0 __archspec=1=x86_64",
		"noarch":        "",
	} {
		if got := specs(t, platform, env()); got != want {
			t.Errorf("%s: %s, want %s", platform, got, want)
		}
	}
}

func TestOverrides(t *testing.T) {
	lookup := env(EnvGlibc, "2.17", EnvCUDA, "12.4", EnvLinux, "", EnvArchspec, "zen4")
	if got, want := specs(t, "linux-64", lookup), "__unix=0=0 __glibc=2.17=0 __cuda=12.4=0 __archspec=1=zen4"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if got, want := specs(t, "linux-64", env(EnvCUDA, "")), "__unix=0=0 __linux=5.10=0 __glibc=2.36=0 __archspec=1=x86_64"; got != want {
		t.Errorf("empty CUDA override: %s", got)
	}
	if got := Overrides(lookup); strings.Join(got, " ") != "CONDA_OVERRIDE_ARCHSPEC=zen4 CONDA_OVERRIDE_CUDA=12.4 CONDA_OVERRIDE_GLIBC=2.17 CONDA_OVERRIDE_LINUX=" {
		t.Errorf("Overrides = %q", got)
	}
}

func TestErrors(t *testing.T) {
	for _, c := range []struct {
		platform string
		lookup   func(string) (string, bool)
		want     string
	}{
		{"linux-64", env(EnvGlibc, ">=2.17"), "CONDA_OVERRIDE_GLIBC"},
		{"plan9-64", env(), "unknown platform"},
		{"linux-foo", env(), "unknown platform"},
		{"linux64", env(), "unknown platform"},
	} {
		_, err := Packages(c.platform, c.lookup)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Packages(%s) = %v, want %q", c.platform, err, c.want)
		}
	}
}
