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

// Unsized counts the conda entries whose archive size the lock does not
// record; beyond the layer budget, one missing makes a build group all
// of its platform's packages by name hash (llb/group.go).
func (l *Lock) Unsized() int {
	n := 0
	for _, p := range l.Packages {
		if p.Manager == Conda && p.Size == 0 {
			n++
		}
	}
	return n
}

// SizesFix says how to mend a lock whose sizes envkit cannot use while
// keeping its pins but one: a lock without sizes is valid (only layer grouping
// beyond the budget reads them), and any partial update solves again and
// so records the sizes of every package it writes.
func SizesFix(platform string) string {
	return fmt.Sprintf("delete the %s%s entry (the lock builds without it), then envkit lock --update NAME (any one package in the lock) records the sizes again, moving only NAME (and what a newer NAME needs)", SizesPrefix, platform)
}

// sizesError is a bad SizesPrefix value; offset is the byte in the value
// where the bad entry starts, so the error can point at it.
type sizesError struct {
	offset int
	msg    string
}

func (e *sizesError) Error() string { return e.msg }

// parseSizes reads a SizesPrefix value back, with the byte offset of each
// entry. It accepts only what sizesCustom writes (positive decimal sizes
// without sign or leading zero, each name once), so a lock read and
// written again keeps its bytes.
func parseSizes(value string) (sizes map[string]int64, offsets map[string]int, err error) {
	sizes, offsets = map[string]int64{}, map[string]int{}
	at := 0
	for _, e := range strings.Split(value, ",") {
		name, n, _ := strings.Cut(e, "=")
		size, err := strconv.ParseInt(n, 10, 64)
		switch {
		case name == "" || err != nil || size <= 0 || strconv.FormatInt(size, 10) != n:
			return nil, nil, &sizesError{at, fmt.Sprintf("entry %q: want NAME=BYTES (a positive whole number of bytes), entries separated by commas without spaces", e)}
		case sizes[name] != 0:
			return nil, nil, &sizesError{at, fmt.Sprintf("%q listed twice", name)}
		}
		sizes[name] = size
		offsets[name] = at
		at += len(e) + 1
	}
	return sizes, offsets, nil
}
