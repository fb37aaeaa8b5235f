// Package platform is envkit's one table of target platforms: each OCI
// platform envkit builds, its conda subdir and the machine name Python
// reports there. The lock, pip's markers and wheel tags, and the build all
// read it, so every platform one of them accepts, the others accept too.
package platform

import (
	"fmt"
	"strings"

	"github.com/containerd/platforms"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Platform is one target: an OCI platform in containerd's normalized form
// (arm64 without variant, arm with one), its conda subdir and Python's
// platform.machine() on it.
type Platform struct {
	OS, Architecture, Variant string
	Subdir                    string
	Machine                   string
}

// table lists the platforms envkit builds, in the order docs list them.
// conda has subdirs for ARMv6 and ARMv7 only: arm/v5 and arm/v8 (32-bit)
// have none, and amd64's micro-architecture levels share linux-64.
var table = []Platform{
	{"linux", "amd64", "", "linux-64", "x86_64"},
	{"linux", "arm64", "", "linux-aarch64", "aarch64"},
	{"linux", "ppc64le", "", "linux-ppc64le", "ppc64le"},
	{"linux", "s390x", "", "linux-s390x", "s390x"},
	{"linux", "arm", "v7", "linux-armv7l", "armv7l"},
	{"linux", "arm", "v6", "linux-armv6l", "armv6l"},
	{"linux", "riscv64", "", "linux-riscv64", "riscv64"},
	{"linux", "386", "", "linux-32", "i686"},
}

// All is every platform envkit builds.
func All() []Platform { return append([]Platform(nil), table...) }

// Parse reads an OCI platform, "os/arch[/variant]" (linux/arm64,
// linux/arm64/v8, linux/arm/v7, linux/amd64/v3).
func Parse(s string) (Platform, error) {
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" || (len(parts) == 3 && parts[2] == "") {
		return Platform{}, fmt.Errorf("platform %q: want os/arch[/variant], one of %s", s, names())
	}
	p, err := platforms.Parse(s)
	if err != nil {
		return Platform{}, fmt.Errorf("platform %q: %v", s, err)
	}
	return FromOCI(p)
}

// FromOCI is the platform of an OCI platform, normalized as containerd
// does.
func FromOCI(p ocispecs.Platform) (Platform, error) {
	n := platforms.Normalize(p)
	variant := n.Variant
	if n.Architecture == "amd64" {
		switch variant {
		case "v2", "v3", "v4":
			variant = ""
		}
	}
	for _, t := range table {
		if t.OS == n.OS && t.Architecture == n.Architecture && t.Variant == variant {
			if n.Architecture == "amd64" {
				t.Variant = n.Variant
			}
			return t, nil
		}
	}
	return Platform{}, fmt.Errorf("platform %s has no conda subdir: envkit builds %s", Format(p), names())
}

// FromSubdir is the platform of a conda subdir (linux-aarch64).
func FromSubdir(subdir string) (Platform, error) {
	for _, t := range table {
		if t.Subdir == subdir {
			return t, nil
		}
	}
	var subdirs []string
	for _, t := range table {
		subdirs = append(subdirs, t.Subdir)
	}
	return Platform{}, fmt.Errorf("conda subdir %q is not one envkit builds for: %s", subdir, strings.Join(subdirs, ", "))
}

// OCI is the platform as BuildKit takes it.
func (p Platform) OCI() ocispecs.Platform {
	return ocispecs.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant}
}

// String is os/arch[/variant].
func (p Platform) String() string { return Format(p.OCI()) }

// Format writes an OCI platform as os/arch[/variant], as given (not
// normalized).
func Format(p ocispecs.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// Subdir is the conda subdir of an OCI platform.
func Subdir(p ocispecs.Platform) (string, error) {
	t, err := FromOCI(p)
	return t.Subdir, err
}

func names() string {
	var out []string
	for _, t := range table {
		out = append(out, t.String())
	}
	return strings.Join(out, ", ")
}
