package relock

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"

	"github.com/envkit/envkit/internal/conda/lock"
	"github.com/envkit/envkit/internal/conda/version"
)

// Kinds of Change.
const (
	Added      = "added"
	Removed    = "removed"
	Upgraded   = "upgraded"
	Downgraded = "downgraded"
	// Rebuilt is the same version with another build.
	Rebuilt = "rebuilt"
	// Moved is the same version and build from another URL (a channel
	// change, or a .conda replacing a .tar.bz2).
	Moved = "moved"
	// Replaced is the same URL with other checksums: the channel replaced
	// the archive.
	Replaced = "replaced"
)

// Change is one package that differs between two locks on one platform.
type Change struct {
	Platform string `json:"platform"`
	Manager  string `json:"manager"`
	Name     string `json:"name"`
	Kind     string `json:"change"`
	Old      *Pin   `json:"old,omitempty"`
	New      *Pin   `json:"new,omitempty"`
}

// Pin is what a lock entry fixes.
type Pin struct {
	Version string `json:"version"`
	Build   string `json:"build,omitempty"`
	URL     string `json:"url"`
	SHA256  string `json:"sha256,omitempty"`
	MD5     string `json:"md5,omitempty"`
}

// Changes compares the packages of two locks, platform by platform, and
// returns the differences sorted by platform, manager and name. Entries
// are matched by (platform, manager, name, category).
func Changes(old, new []lock.Package) []Change {
	type key struct{ platform, manager, name, category string }
	index := func(pkgs []lock.Package) map[key]lock.Package {
		m := make(map[key]lock.Package, len(pkgs))
		for _, p := range pkgs {
			m[key{p.Platform, p.Manager, p.Name, p.Category}] = p
		}
		return m
	}
	before, after := index(old), index(new)
	var out []Change
	for k, o := range before {
		n, ok := after[k]
		switch {
		case !ok:
			out = append(out, Change{Platform: k.platform, Manager: k.manager, Name: k.name, Kind: Removed, Old: pinOf(o)})
		default:
			if kind := compare(o, n); kind != "" {
				out = append(out, Change{Platform: k.platform, Manager: k.manager, Name: k.name, Kind: kind, Old: pinOf(o), New: pinOf(n)})
			}
		}
	}
	for k, n := range after {
		if _, ok := before[k]; !ok {
			out = append(out, Change{Platform: k.platform, Manager: k.manager, Name: k.name, Kind: Added, New: pinOf(n)})
		}
	}
	slices.SortFunc(out, func(a, b Change) int {
		return cmp.Or(cmp.Compare(a.Platform, b.Platform), cmp.Compare(a.Manager, b.Manager), cmp.Compare(a.Name, b.Name))
	})
	return out
}

func pinOf(p lock.Package) *Pin {
	return &Pin{Version: p.Version, Build: buildOf(p), URL: p.URL, SHA256: p.Hash.SHA256, MD5: p.Hash.MD5}
}

// buildOf is the entry's build string (derived from the URL for conda
// entries that do not store it); pip entries have none.
func buildOf(p lock.Package) string {
	if p.Build != "" || p.Manager != lock.Conda {
		return p.Build
	}
	r, err := p.Record()
	if err != nil {
		return ""
	}
	return r.Build
}

// compare classifies an entry present in both locks, "" when unchanged.
func compare(o, n lock.Package) string {
	if o.Version != n.Version {
		ov, err1 := version.Parse(o.Version)
		nv, err2 := version.Parse(n.Version)
		if err1 == nil && err2 == nil && nv.Less(ov) {
			return Downgraded
		}
		return Upgraded
	}
	if buildOf(o) != buildOf(n) {
		return Rebuilt
	}
	switch {
	case o.URL != n.URL:
		return Moved
	case o.Hash != n.Hash:
		return Replaced
	}
	return ""
}

// WriteChanges prints changes for people: a heading per platform, then one
// line per package (`upgraded  numpy  1.26.4 → 2.1.3`); "no changes" when
// there are none.
func WriteChanges(w io.Writer, changes []Change) error {
	if len(changes) == 0 {
		_, err := fmt.Fprintln(w, "no changes")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	platform := ""
	for _, c := range changes {
		if c.Platform != platform {
			platform = c.Platform
			fmt.Fprintf(tw, "%s:\n", platform)
		}
		name := c.Name
		if c.Manager != lock.Conda {
			name += " (" + c.Manager + ")"
		}
		var what string
		switch c.Kind {
		case Added:
			what = c.New.Version + " " + c.New.Build
		case Removed:
			what = c.Old.Version + " " + c.Old.Build
		case Upgraded, Downgraded:
			what = c.Old.Version + " → " + c.New.Version
			if c.Old.Build != c.New.Build {
				what = c.Old.Version + " " + c.Old.Build + " → " + c.New.Version + " " + c.New.Build
			}
		case Rebuilt:
			what = c.Old.Version + " " + c.Old.Build + " → " + c.New.Build
		case Moved:
			what = c.Old.URL + " → " + c.New.URL
		case Replaced:
			what = c.New.URL + " (other checksums)"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", c.Kind, name, what)
	}
	return tw.Flush()
}
