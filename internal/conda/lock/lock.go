// Package lock reads and writes conda-lock v1 files (CEP 37), the format
// conda-lock and micromamba read, converts between their entries and
// repodata records, exports @EXPLICIT files (CEP 23) and computes the
// content hash that tells a stale lock. docs/lock.md describes the choices.
package lock

import (
	"cmp"
	"slices"
)

// Managers of a package entry.
const (
	Conda = "conda"
	Pip   = "pip"
)

// Lock is a conda-lock v1 file.
type Lock struct {
	Metadata Metadata
	// Packages, in the order Sort gives (Marshal sorts a copy).
	Packages []Package
}

// Metadata is the lock's "metadata" mapping. conda-lock's optional
// time_metadata, git_metadata and inputs_metadata are read over and not
// kept: they would make equal locks differ.
type Metadata struct {
	// ContentHash maps each platform to ContentHash of its inputs.
	ContentHash map[string]string
	// Channels in priority order, as the definition names them.
	Channels []Channel
	// Platforms are subdirs such as "linux-64".
	Platforms []string
	// Sources are the definition files, relative to the lock's directory.
	Sources []string
	// Custom is conda-lock's custom_metadata, without the sizes (they are
	// in Package.Size).
	Custom map[string]string
}

// Channel is one metadata.channels entry.
type Channel struct {
	URL         string
	UsedEnvVars []string
}

// Package is one "package" entry: a conda or pip package for one platform.
type Package struct {
	Name    string
	Version string
	// Manager is Conda or Pip.
	Manager  string
	Platform string
	// Dependencies maps a package name to the rest of its spec ("" for
	// any version), as conda-lock writes them.
	Dependencies map[string]string
	URL          string
	Hash         Hash
	// Category is "main" unless conda-lock's dev/extras categories apply.
	Category string
	Optional bool
	// Build is the build string, which newer conda-lock versions may write;
	// envkit reads it when present and derives it from the URL otherwise.
	Build string
	// Size is a conda archive's size in bytes, 0 when unknown. conda-lock
	// v1 entries allow no key for it: the lock keeps the sizes in
	// custom_metadata (SizesPrefix), which Read moves here and Marshal
	// writes from here.
	Size int64
}

// Hash holds the archive's checksums (pip entries carry only sha256).
type Hash struct {
	MD5    string
	SHA256 string
}

// Sort orders packages as conda-lock does (by manager, name, platform),
// so that a lock written twice from the same solve is byte-identical and
// conda-lock's own files keep their order.
func (l *Lock) Sort() {
	slices.SortStableFunc(l.Packages, comparePackages)
}

func comparePackages(a, b Package) int {
	return cmp.Or(
		cmp.Compare(a.Manager, b.Manager),
		cmp.Compare(a.Name, b.Name),
		cmp.Compare(a.Platform, b.Platform),
		cmp.Compare(a.Category, b.Category),
	)
}

// ForPlatform returns the packages of one platform, conda ones first.
func (l *Lock) ForPlatform(platform string) []Package {
	var out []Package
	for _, p := range l.Packages {
		if p.Platform == platform {
			out = append(out, p)
		}
	}
	slices.SortStableFunc(out, comparePackages)
	return out
}
