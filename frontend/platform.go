package frontend

import (
	"fmt"
	"strings"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// parsePlatform reads "os/arch[/variant]".
func parsePlatform(s string) (ocispecs.Platform, error) {
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return ocispecs.Platform{}, fmt.Errorf("want os/arch[/variant]")
	}
	p := ocispecs.Platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	return p, nil
}

// condaSubdir is the conda platform (subdir) of an OCI platform.
func condaSubdir(p ocispecs.Platform) (string, error) {
	if p.OS != "linux" {
		return "", fmt.Errorf("platform %s/%s: envkit builds linux images only", p.OS, p.Architecture)
	}
	switch p.Architecture {
	case "amd64":
		return "linux-64", nil
	case "arm64":
		return "linux-aarch64", nil
	case "ppc64le":
		return "linux-ppc64le", nil
	case "s390x":
		return "linux-s390x", nil
	case "386":
		return "linux-32", nil
	case "arm":
		if p.Variant == "v6" {
			return "linux-armv6l", nil
		}
		return "linux-armv7l", nil
	}
	return "", fmt.Errorf("platform %s/%s has no conda subdir", p.OS, p.Architecture)
}

func formatPlatform(p ocispecs.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}
