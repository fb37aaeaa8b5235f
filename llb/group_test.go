package llb

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"

	"github.com/envkit/envkit/internal/conda/repodata"
)

// mlPackages generates n conda records named prefix-NNN with an ML
// environment's mix of archive sizes (a fixed seed): most of a few kB to a
// few MB, a tenth of tens of MB, a few hundred-MB ones (torch, mkl, cuda).
func mlPackages(prefix string, n int, seed uint64) []*repodata.Record {
	rng := rand.New(rand.NewPCG(seed, 1))
	logUniform := func(lo, hi float64) int64 {
		return int64(math.Exp(math.Log(lo) + rng.Float64()*(math.Log(hi)-math.Log(lo))))
	}
	out := make([]*repodata.Record, n)
	for i := range out {
		var size int64
		switch r := rng.Float64(); {
		case r < 0.04:
			size = logUniform(100e6, 700e6)
		case r < 0.15:
			size = logUniform(5e6, 60e6)
		default:
			size = logUniform(5e3, 5e6)
		}
		name := fmt.Sprintf("%s-%03d", prefix, i)
		fn := name + "-1.0-0.conda"
		sum := sha256.Sum256([]byte(name))
		out[i] = &repodata.Record{
			Name: name, Version: "1.0", Build: "0", Subdir: "linux-64", Size: size,
			SHA256: hex.EncodeToString(sum[:]), Filename: fn,
			URL: "https://conda.example/ml/linux-64/" + fn, Channel: "https://conda.example/ml",
		}
	}
	return out
}

// layerSteps builds env and returns its package layers: each link step's
// digest and the names of the packages it links.
func layerSteps(t *testing.T, env Environment) map[digest.Digest][]string {
	t.Helper()
	out := map[digest.Digest][]string{}
	for _, v := range buildVertices(t, env, baseOptions(amd64)) {
		ex := v.Op.GetExec()
		if ex == nil || !strings.Contains(v.Name, "] link ") {
			continue
		}
		args := ex.Meta.Args
		for i, a := range args {
			if a != "--record" || i+1 == len(args) {
				continue
			}
			var r repodata.Record
			if err := json.Unmarshal([]byte(args[i+1]), &r); err != nil {
				t.Fatal(err)
			}
			out[v.Digest] = append(out[v.Digest], r.Name)
		}
	}
	return out
}

// sharedBytes is what b's package layers add to a registry holding a's,
// and what they share with it: a layer's bytes are its packages' sizes.
func sharedBytes(a, b map[digest.Digest][]string, size map[string]int64) (added, shared int64) {
	for d, names := range b {
		var n int64
		for _, name := range names {
			n += size[name]
		}
		if _, ok := a[d]; ok {
			shared += n
		} else {
			added += n
		}
	}
	return added, shared
}

// Two ML environments of 150 packages sharing 120, beyond the default
// budget: with sizes known, every large package they share is the same
// link step (the same layer) in both, and b shares more of its bytes with
// a than under the name hash alone (the lock without sizes).
func TestLayerBudgetSharesLargePackages(t *testing.T) {
	common := mlPackages("ml-common", 120, 1)
	a := append(slices.Clone(common), mlPackages("ml-a", 30, 2)...)
	b := append(slices.Clone(common), mlPackages("ml-b", 30, 3)...)
	size := map[string]int64{}
	for _, p := range append(slices.Clone(a), b...) {
		size[p.Name] = p.Size
	}
	envOf := func(pkgs []*repodata.Record) Environment {
		return Environment{BaseImage: "busybox:1.36", Prefix: "/opt/conda", Packages: pkgs}
	}
	withSizes := func(pkgs []*repodata.Record) []*repodata.Record {
		out := make([]*repodata.Record, len(pkgs))
		for i, p := range pkgs {
			c := *p
			out[i] = &c
		}
		return out
	}
	la, lb := layerSteps(t, envOf(withSizes(a))), layerSteps(t, envOf(withSizes(b)))
	oldA, oldB := layerSteps(t, envOf(unsized(withSizes(a)))), layerSteps(t, envOf(unsized(withSizes(b))))

	// The large packages: the quarter of the budget each environment
	// gives a layer of its own.
	own := DefaultPackageLayers / ownLayerShare
	largest := func(pkgs []*repodata.Record) []string {
		s := slices.Clone(pkgs)
		slices.SortFunc(s, func(x, y *repodata.Record) int { return cmp.Compare(y.Size, x.Size) })
		var names []string
		for _, p := range s[:own] {
			names = append(names, p.Name)
		}
		return names
	}
	stepOf := func(steps map[digest.Digest][]string, name string) (digest.Digest, []string) {
		for d, names := range steps {
			if slices.Contains(names, name) {
				return d, names
			}
		}
		t.Fatalf("%s is linked by no step", name)
		return "", nil
	}
	largeA, largeB := largest(a), largest(b)
	checked := 0
	for _, name := range largeA {
		if !slices.Contains(largeB, name) {
			continue // one environment's own, or ranked differently
		}
		checked++
		da, na := stepOf(la, name)
		db, _ := stepOf(lb, name)
		if len(na) != 1 || da != db {
			t.Errorf("%s (%d bytes): layer %s %v in a, %s in b; want its own layer, the same step in both", name, size[name], da, na, db)
		}
	}
	if checked < own*3/4 {
		t.Errorf("only %d of the %d largest packages are large in both environments: the generated mix is off", checked, own)
	}

	added, shared := sharedBytes(la, lb, size)
	oldAdded, oldShared := sharedBytes(oldA, oldB, size)
	var total int64
	for _, p := range a {
		total += p.Size
	}
	t.Logf("a: %d layers, %.0f MB; b adds %.0f MB with sizes (%.2fx of a), %.0f MB without (%.2fx); shared %.0f MB against %.0f MB",
		len(la), float64(total)/1e6, float64(added)/1e6, float64(total+added)/float64(total),
		float64(oldAdded)/1e6, float64(total+oldAdded)/float64(total), float64(shared)/1e6, float64(oldShared)/1e6)
	if shared <= oldShared {
		t.Errorf("b shares %d bytes of layers with a with sizes, %d without: want more", shared, oldShared)
	}
	if len(la) > DefaultPackageLayers || len(lb) > DefaultPackageLayers {
		t.Errorf("%d and %d package layers, over the budget of %d", len(la), len(lb), DefaultPackageLayers)
	}
}

// The rule itself: within the budget, or with a size unknown, the groups
// are groupByName's; beyond it the largest packages (ties by name) come
// first, one each, and the rest share the remaining budget by name.
func TestGroupPackages(t *testing.T) {
	pkgs := mlPackages("p", 12, 7)
	pkgs[3].Size, pkgs[9].Size = 1e9, 1e9 // a tie: p-003 before p-009
	byName := func(p *repodata.Record) string { return p.Name }
	names := func(groups [][]*repodata.Record) [][]string {
		out := make([][]string, len(groups))
		for i, g := range groups {
			for _, p := range g {
				out[i] = append(out[i], p.Name)
			}
		}
		return out
	}
	eq := func(a, b [][]string) bool { return slices.EqualFunc(a, b, slices.Equal) }

	if got, want := names(groupPackages(pkgs, 12)), names(groupByName(pkgs, byName, 12)); !eq(got, want) || len(got) != 12 {
		t.Errorf("within the budget: %v, want one each", got)
	}
	unknown := withSize(pkgs, 5, 0)
	if got, want := names(groupPackages(unknown, 8)), names(groupByName(unknown, byName, 8)); !eq(got, want) {
		t.Errorf("a size unknown: %v, want the name hash's %v", got, want)
	}
	if got, want := names(groupPackages(pkgs, 3)), names(groupByName(pkgs, byName, 3)); !eq(got, want) {
		t.Errorf("a budget too small for a share of its own: %v, want %v", got, want)
	}

	got := names(groupPackages(pkgs, 8)) // 2 of their own, 6 hash groups
	if len(got) < 3 || !eq(got[:2], [][]string{{"p-003"}, {"p-009"}}) {
		t.Fatalf("budget 8: %v, want p-003 and p-009 first, alone", got)
	}
	rest := slices.DeleteFunc(slices.Clone(pkgs), func(p *repodata.Record) bool { return p.Name == "p-003" || p.Name == "p-009" })
	if want := names(groupByName(rest, byName, 6)); !eq(got[2:], want) {
		t.Errorf("budget 8, the rest: %v, want %v", got[2:], want)
	}
	// Three of 1e9 for two places: the names decide.
	tied := withSize(pkgs, 10, 1e9)
	if got := names(groupPackages(tied, 8)); !eq(got[:2], [][]string{{"p-003"}, {"p-009"}}) {
		t.Errorf("ties: %v, want p-003 and p-009", got[:2])
	}
	tied = withSize(pkgs, 1, 1e9)
	if got := names(groupPackages(tied, 8)); !eq(got[:2], [][]string{{"p-001"}, {"p-003"}}) {
		t.Errorf("ties: %v, want p-001 and p-003", got[:2])
	}
}

// withSize is a copy of pkgs with package i's size set.
func withSize(pkgs []*repodata.Record, i int, size int64) []*repodata.Record {
	out := slices.Clone(pkgs)
	c := *out[i]
	c.Size = size
	out[i] = &c
	return out
}
