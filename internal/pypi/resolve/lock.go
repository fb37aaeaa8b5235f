package resolve

import (
	"maps"

	"github.com/envkit/envkit/internal/conda/lock"
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
