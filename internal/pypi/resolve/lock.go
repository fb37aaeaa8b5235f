package resolve

import (
	"maps"

	"github.com/envkit/envkit/internal/conda/lock"
	"github.com/envkit/envkit/internal/pypi/pep508"
)

// LockPackages converts pins to conda-lock "manager: pip" entries for one
// platform (conda subdir).
func LockPackages(pins []Pin, platform string) []lock.Package {
	out := make([]lock.Package, 0, len(pins))
	for _, p := range pins {
		deps := maps.Clone(p.Requires)
		if deps == nil {
			deps = map[string]string{}
		}
		out = append(out, lock.Package{
			Name: p.Name, Version: p.Version, Manager: lock.Pip, Platform: platform,
			Dependencies: deps, URL: p.URL, Hash: lock.Hash{SHA256: p.SHA256}, Category: "main",
		})
	}
	return out
}

// CondaProvided maps the normalised names of a lock's conda packages for
// one platform to their versions: Options.Provided, so that pip leaves
// them to conda.
func CondaProvided(pkgs []lock.Package, platform string) map[string]string {
	out := map[string]string{}
	for _, p := range pkgs {
		if p.Manager == lock.Conda && p.Platform == platform {
			out[pep508.NormaliseName(p.Name)] = p.Version
		}
	}
	return out
}
