package platform

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for in, want := range map[string]string{
		"linux/amd64":    "linux-64",
		"linux/amd64/v3": "linux-64",
		"linux/arm64":    "linux-aarch64",
		"linux/arm64/v8": "linux-aarch64",
		"linux/aarch64":  "linux-aarch64",
		"linux/arm":      "linux-armv7l",
		"linux/arm/v7":   "linux-armv7l",
		"linux/arm/v6":   "linux-armv6l",
		"linux/ppc64le":  "linux-ppc64le",
		"linux/s390x":    "linux-s390x",
		"linux/riscv64":  "linux-riscv64",
		"linux/386":      "linux-32",
	} {
		p, err := Parse(in)
		if err != nil || p.Subdir != want {
			t.Errorf("%s: %+v, %v; want %s", in, p, err, want)
		}
		back, err := FromSubdir(p.Subdir)
		if err != nil || back.Subdir != p.Subdir || back.Machine == "" {
			t.Errorf("%s: FromSubdir(%s) = %+v, %v", in, p.Subdir, back, err)
		}
	}
	for _, in := range []string{"linux/arm/v5", "linux/arm/v8", "windows/amd64", "darwin/arm64", "linux/mips64le", "linux", "linux/", "linux/arm64/", "a/b/c/d"} {
		if p, err := Parse(in); err == nil {
			t.Errorf("%s: accepted as %+v", in, p)
		} else if !strings.Contains(err.Error(), "linux/arm/v7") {
			t.Errorf("%s: the error does not list the platforms: %v", in, err)
		}
	}
}

func TestEveryPlatformHasADistinctSubdir(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range All() {
		if seen[p.Subdir] {
			t.Errorf("subdir %s twice", p.Subdir)
		}
		seen[p.Subdir] = true
		if q, err := Parse(p.String()); err != nil || q != p {
			t.Errorf("%s does not parse back: %+v, %v", p, q, err)
		}
	}
}
