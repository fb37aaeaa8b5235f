package install

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/envkit/envkit/internal/conda/repodata"
)

// referenceOrder is the rule DependencyOrder implements, written the
// obvious quadratic way: repeatedly place the alphabetically first
// package whose dependencies are all placed, else (a cycle) the
// alphabetically first unplaced one.
func referenceOrder(recs []*repodata.Record) []string {
	byName := map[string]*repodata.Record{}
	deps := map[string][]string{}
	for _, r := range recs {
		byName[r.Name] = r
	}
	for _, r := range recs {
		for _, d := range r.Depends {
			if n := SpecName(d); n != r.Name && byName[n] != nil {
				deps[r.Name] = append(deps[r.Name], n)
			}
		}
	}
	var names []string
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []string
	placed := map[string]bool{}
	ready := func(n string) bool {
		for _, d := range deps[n] {
			if !placed[d] {
				return false
			}
		}
		return true
	}
	for len(out) < len(names) {
		i := slices.IndexFunc(names, func(n string) bool { return !placed[n] && ready(n) })
		if i < 0 {
			i = slices.IndexFunc(names, func(n string) bool { return !placed[n] })
		}
		placed[names[i]] = true
		out = append(out, names[i])
	}
	return out
}

// randomRecords makes n packages with random dependencies (cycles,
// repeats, self-dependencies, names outside the set and duplicate names
// included).
func randomRecords(rng *rand.Rand, n, deps int) []*repodata.Record {
	recs := make([]*repodata.Record, n)
	for i := range recs {
		r := &repodata.Record{Name: fmt.Sprintf("p%d", rng.IntN(n+n/4+1))}
		for range rng.IntN(deps + 1) {
			r.Depends = append(r.Depends, fmt.Sprintf("p%d >=1", rng.IntN(n+2)))
		}
		recs[i] = r
	}
	return recs
}

func TestDependencyOrderMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		recs := randomRecords(rng, 1+rng.IntN(40), 1+i%4)
		var got []string
		for _, r := range DependencyOrder(recs) {
			got = append(got, r.Name)
		}
		if want := referenceOrder(recs); !slices.Equal(got, want) {
			t.Fatalf("case %d: order\n%v\nwant\n%v", i, got, want)
		}
	}
}

// BenchmarkDependencyOrder shows the order linear in the packages (up to
// the log of the name heap): ns/op per package stays flat from 1k to 50k.
func BenchmarkDependencyOrder(b *testing.B) {
	for _, n := range []int{1000, 10000, 50000} {
		recs := randomRecords(rand.New(rand.NewPCG(3, 4)), n, 8)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for b.Loop() {
				DependencyOrder(recs)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/pkg")
		})
	}
}
