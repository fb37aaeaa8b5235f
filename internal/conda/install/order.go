package install

import (
	"container/heap"
	"sort"
	"strings"

	"github.com/envkit/envkit/internal/conda/repodata"
)

// DependencyOrder returns the records with every package after the
// packages it depends on (by name), ties and cycles broken by name, so the
// order is the same whatever order the input has. Link scripts run in this
// order and, when two packages write the same path, the later one wins.
//
// It is Kahn's topological sort with the ready packages in a heap by name:
// O((n+e) log n) for n packages and e dependencies, so a lock of tens of
// thousands of packages orders in milliseconds (a restart-from-the-first-
// name scan was quadratic: a 10 MB lock took half a minute).
func DependencyOrder(recs []*repodata.Record) []*repodata.Record {
	byName := map[string]*repodata.Record{}
	for _, r := range recs {
		byName[r.Name] = r
	}
	// waiting[n] counts n's dependencies not yet placed (with repeats, as
	// users lists each dependent once per dependency that names it).
	waiting := map[string]int{}
	users := map[string][]string{}
	for _, r := range recs {
		for _, d := range r.Depends {
			if n := SpecName(d); n != r.Name && byName[n] != nil {
				waiting[r.Name]++
				users[n] = append(users[n], r.Name)
			}
		}
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	ready := &nameHeap{}
	for _, n := range names {
		if waiting[n] == 0 {
			*ready = append(*ready, n)
		}
	}
	heap.Init(ready) // names is sorted: already a heap, Init keeps it O(n)
	out := make([]*repodata.Record, 0, len(names))
	placed := make(map[string]bool, len(names))
	place := func(n string) {
		placed[n] = true
		out = append(out, byName[n])
		for _, u := range users[n] {
			if waiting[u]--; waiting[u] == 0 && !placed[u] {
				heap.Push(ready, u)
			}
		}
	}
	next := 0 // names[:next] are all placed: the cycle breaker's cursor
	for len(out) < len(names) {
		if ready.Len() > 0 {
			if n := heap.Pop(ready).(string); !placed[n] {
				place(n) // the alphabetically first ready package goes next
			}
			continue
		}
		// A cycle: place its alphabetically first member.
		for placed[names[next]] {
			next++
		}
		place(names[next])
	}
	return out
}

// nameHeap is a min-heap of package names.
type nameHeap []string

func (h nameHeap) Len() int           { return len(h) }
func (h nameHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h nameHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *nameHeap) Push(x any)        { *h = append(*h, x.(string)) }
func (h *nameHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
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
