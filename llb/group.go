package llb

import (
	"cmp"
	"hash/fnv"
	"slices"

	"github.com/envkit/envkit/internal/conda/repodata"
)

// ownLayerShare is the share of the conda layer budget, beyond it, that
// goes to the largest packages, a layer each: 1/ownLayerShare.
const ownLayerShare = 4

// groupPackages returns the conda packages' layer groups (pkgs in name
// order): one per package within the budget. Beyond it, when every
// package's archive size is known, the budget/ownLayerShare largest (ties
// by name) have a layer each, first and in name order, and the others
// share the rest of the budget by a hash of their name (groupByName);
// when a size is unknown, all share the budget by name, as before sizes
// were known. A package's group then depends on its size rank and its
// name, not on its neighbours: two environments sharing most packages
// share the layers of their large packages, most of their bytes, whole.
// A large package's step is the one it has within the budget.
func groupPackages(pkgs []*repodata.Record, budget int) [][]*repodata.Record {
	name := func(p *repodata.Record) string { return p.Name }
	own := budget / ownLayerShare
	if len(pkgs) <= budget || own == 0 || slices.ContainsFunc(pkgs, func(p *repodata.Record) bool { return p.Size <= 0 }) {
		return groupByName(pkgs, name, budget)
	}
	bySize := slices.Clone(pkgs)
	slices.SortStableFunc(bySize, func(a, b *repodata.Record) int {
		return cmp.Or(cmp.Compare(b.Size, a.Size), cmp.Compare(a.Name, b.Name))
	})
	large := map[*repodata.Record]bool{}
	for _, p := range bySize[:own] {
		large[p] = true
	}
	var groups [][]*repodata.Record
	var rest []*repodata.Record
	for _, p := range pkgs {
		if large[p] {
			groups = append(groups, []*repodata.Record{p})
		} else {
			rest = append(rest, p)
		}
	}
	return append(groups, groupByName(rest, name, budget-own)...)
}

// groupByName returns one group per item while the budget allows, and
// beyond it budget groups chosen by a hash of the item's name (a conda
// package's or a wheel's): adding or changing an item then disturbs the
// one group it falls into, not the groups after it as name-order chunks
// would. Groups keep the items' (name) order.
func groupByName[T any](items []T, name func(T) string, budget int) [][]T {
	if len(items) <= budget {
		groups := make([][]T, len(items))
		for i, it := range items {
			groups[i] = []T{it}
		}
		return groups
	}
	buckets := make([][]T, budget)
	for _, it := range items {
		h := fnv.New32a()
		h.Write([]byte(name(it)))
		b := h.Sum32() % uint32(budget)
		buckets[b] = append(buckets[b], it)
	}
	groups := buckets[:0]
	for _, b := range buckets {
		if len(b) > 0 {
			groups = append(groups, b)
		}
	}
	return groups
}
