package install

import (
	"sort"
	"strings"

	"github.com/envkit/envkit/internal/conda/repodata"
)

// DependencyOrder returns the records with every package after the
// packages it depends on (by name), ties and cycles broken by name, so the
// order is the same whatever order the input has. Link scripts run in this
// order and, when two packages write the same path, the later one wins.
func DependencyOrder(recs []*repodata.Record) []*repodata.Record {
	byName := map[string]*repodata.Record{}
	for _, r := range recs {
		byName[r.Name] = r
	}
	deps := map[string][]string{}
	for _, r := range recs {
		for _, d := range r.Depends {
			if n := SpecName(d); n != r.Name && byName[n] != nil {
				deps[r.Name] = append(deps[r.Name], n)
			}
		}
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []*repodata.Record
	placed := map[string]bool{}
	for len(out) < len(names) {
		progress := false
		for _, n := range names {
			if placed[n] || !allPlaced(deps[n], placed) {
				continue
			}
			placed[n] = true
			out = append(out, byName[n])
			progress = true
			break // restart: the alphabetically first ready package goes next
		}
		if !progress {
			// A cycle: place its alphabetically first member.
			for _, n := range names {
				if !placed[n] {
					placed[n] = true
					out = append(out, byName[n])
					break
				}
			}
		}
	}
	return out
}

func allPlaced(names []string, placed map[string]bool) bool {
	for _, n := range names {
		if !placed[n] {
			return false
		}
	}
	return true
}

// SpecName is the package name of a match spec ("python >=3.8" → python,
// "conda-forge::numpy[version='>=1']" → numpy).
func SpecName(spec string) string {
	s := strings.TrimSpace(spec)
	if i := strings.LastIndex(s, "::"); i >= 0 {
		s = s[i+2:]
	}
	if i := strings.IndexAny(s, " =<>!~[("); i >= 0 {
		s = s[:i]
	}
	return strings.ToLower(s)
}
