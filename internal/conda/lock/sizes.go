package lock

import (
	"fmt"
	"strconv"
	"strings"
)

// SizesPrefix starts the custom_metadata key that holds the archive sizes
// of one platform's conda packages, "conda-sizes:<platform>", whose value
// is "NAME=BYTES" per package, in name order, joined by commas:
//
//	conda-sizes:linux-64: _libgcc_mutex=2562,libgcc-ng=770506,numpy=7012345
//
// conda-lock v1's package entries forbid unknown keys; custom_metadata is
// a string map conda-lock and micromamba carry without reading it. One
// value per platform keeps a lock of hundreds of packages short. The
// sizes are facts of the pins (the URL and sha256 fix them), so they are
// not in content_hash, and a lock without them reads as before.
const SizesPrefix = "conda-sizes:"

// sizesCustom returns the custom_metadata entries for the sizes of pkgs
// (sorted as Sort does): one per platform with a conda package of known
// size. A name listed in several categories is the same archive; the
// first entry's size is written.
func sizesCustom(pkgs []Package) map[string]string {
	lists := map[string][]string{}
	last := map[string]string{} // platform → last name written
	for _, p := range pkgs {
		if p.Manager != Conda || p.Size <= 0 || last[p.Platform] == p.Name {
			continue
		}
		last[p.Platform] = p.Name
		lists[p.Platform] = append(lists[p.Platform], p.Name+"="+strconv.FormatInt(p.Size, 10))
	}
	out := make(map[string]string, len(lists))
	for platform, list := range lists {
		out[SizesPrefix+platform] = strings.Join(list, ",")
	}
	return out
}

// parseSizes reads a SizesPrefix value back. It accepts only what
// sizesCustom writes (positive decimal sizes without sign or leading
// zero, each name once), so a lock read and written again keeps its bytes.
func parseSizes(value string) (map[string]int64, error) {
	out := map[string]int64{}
	for _, e := range strings.Split(value, ",") {
		name, n, _ := strings.Cut(e, "=")
		size, err := strconv.ParseInt(n, 10, 64)
		switch {
		case name == "" || err != nil || size <= 0 || strconv.FormatInt(size, 10) != n:
			return nil, fmt.Errorf("entry %q: want NAME=BYTES (a positive whole number of bytes), entries separated by commas", e)
		case out[name] != 0:
			return nil, fmt.Errorf("%s listed twice", name)
		}
		out[name] = size
	}
	return out, nil
}
