package solve

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// toyProvider is a hand-written problem for the core: names hold candidate
// variables (preferred first); each variable has requirements and
// constraints over variables.
type toyProvider struct {
	names [][]int32 // name → candidates
	of    []int32   // variable → name
	reqs  map[int32][]requirement
	cons  map[int32][]constraint
}

func (p *toyProvider) nameOf(v int32) int32       { return p.of[v] }
func (p *toyProvider) candidates(n int32) []int32 { return p.names[n] }
func (p *toyProvider) expand(v int32) ([]requirement, []constraint) {
	return p.reqs[v], p.cons[v]
}

// newToy makes names with the given candidate counts; variables are
// numbered in order.
func newToy(counts ...int) *toyProvider {
	p := &toyProvider{reqs: map[int32][]requirement{}, cons: map[int32][]constraint{}}
	for n, k := range counts {
		var cands []int32
		for range k {
			cands = append(cands, int32(len(p.of)))
			p.of = append(p.of, int32(n))
		}
		p.names = append(p.names, cands)
	}
	return p
}

func (p *toyProvider) require(v int32, cands ...int32) {
	name := int32(0) // a requirement nothing satisfies still names something
	if len(cands) > 0 {
		name = p.of[cands[0]]
	}
	p.reqs[v] = append(p.reqs[v], requirement{spec: int32(len(p.reqs[v])), name: name, cands: cands})
}

// check verifies a model against the toy problem independently of the core.
func (p *toyProvider) check(t *testing.T, roots []requirement, model []int32) {
	t.Helper()
	in := map[int32]bool{}
	perName := map[int32]int{}
	for _, v := range model {
		in[v] = true
		perName[p.of[v]]++
		if perName[p.of[v]] > 1 {
			t.Fatalf("two candidates of name %d installed: %v", p.of[v], model)
		}
	}
	anyIn := func(cands []int32) bool {
		for _, c := range cands {
			if in[c] {
				return true
			}
		}
		return false
	}
	for _, r := range roots {
		if !anyIn(r.cands) {
			t.Fatalf("root %v not satisfied by %v", r.cands, model)
		}
	}
	for _, v := range model {
		for _, r := range p.reqs[v] {
			if !anyIn(r.cands) {
				t.Fatalf("%d requires one of %v; model %v", v, r.cands, model)
			}
		}
		for _, c := range p.cons[v] {
			if anyIn(c.excluded) {
				t.Fatalf("%d excludes %v; model %v", v, c.excluded, model)
			}
		}
	}
}

func TestCorePrefersFirstCandidates(t *testing.T) {
	p := newToy(2, 2) // a: 0 (preferred), 1; b: 2 (preferred), 3
	p.require(0, 3)   // a0 needs b1
	p.require(1, 2)   // a1 needs b0
	s := newSAT(p)
	roots := []requirement{{name: 0, cands: []int32{0, 1}}}
	ok, _ := s.solve(roots)
	if !ok {
		t.Fatal("unsatisfiable")
	}
	got := s.installed()
	if len(got) != 2 || got[0] != 0 || got[1] != 3 {
		t.Fatalf("model %v, want [0 3]: the preferred a with the b it needs", got)
	}
}

func TestCoreLearnsAndBackjumps(t *testing.T) {
	// a0 and a1 need b0; c (requested) excludes b0 unless... c0 excludes b0,
	// so a must fall back to a2, which needs nothing.
	p := newToy(3, 1, 1)
	p.require(0, 3)
	p.require(1, 3)
	p.cons[4] = []constraint{{excluded: []int32{3}}}
	s := newSAT(p)
	roots := []requirement{{name: 0, cands: []int32{0, 1, 2}}, {name: 2, cands: []int32{4}}}
	ok, _ := s.solve(roots)
	if !ok {
		t.Fatal("unsatisfiable")
	}
	p.check(t, roots, s.installed())
	if got := s.installed(); got[0] != 2 {
		t.Fatalf("model %v: want a2", got)
	}
}

func TestCoreUnsatCore(t *testing.T) {
	p := newToy(1, 2, 1) // a0 needs b0; c0 needs b1; both requested
	p.require(0, 1)
	p.require(3, 2)
	s := newSAT(p)
	roots := []requirement{{name: 0, cands: []int32{0}}, {name: 2, cands: []int32{3}}}
	ok, core := s.solve(roots)
	if ok {
		t.Fatalf("satisfiable: %v", s.installed())
	}
	kinds := map[clauseKind]int{}
	for _, ci := range core {
		kinds[s.clauses[ci].kind]++
	}
	if kinds[kindRoot] != 2 || kinds[kindRequires] != 2 || kinds[kindForbid] != 1 {
		t.Fatalf("core kinds %v, want 2 roots, 2 requires, 1 forbid", kinds)
	}
}

// TestCoreAgainstBruteForce compares the core with exhaustive search on
// random small problems: same satisfiability, and every model valid.
func TestCoreAgainstBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := range 3000 {
		counts := make([]int, 2+rng.IntN(5))
		for i := range counts {
			counts[i] = 1 + rng.IntN(3)
		}
		p := newToy(counts...)
		nv := int32(len(p.of))
		for v := range nv {
			for range rng.IntN(3) {
				n := rng.IntN(len(counts))
				var cands []int32
				for _, c := range p.names[n] {
					if c != v && rng.IntN(2) == 0 {
						cands = append(cands, c)
					}
				}
				if len(cands) > 0 || rng.IntN(8) == 0 {
					p.require(v, cands...)
				}
			}
			if rng.IntN(3) == 0 {
				x := rng.Int32N(nv)
				if p.of[x] != p.of[v] {
					p.cons[v] = append(p.cons[v], constraint{excluded: []int32{x}})
				}
			}
		}
		var roots []requirement
		for n := range counts {
			if rng.IntN(2) == 0 || n == 0 {
				var cands []int32
				for _, c := range p.names[n] {
					if rng.IntN(3) > 0 {
						cands = append(cands, c)
					}
				}
				roots = append(roots, requirement{name: int32(n), cands: cands})
			}
		}
		s := newSAT(p)
		ok, _ := s.solve(roots)
		want := bruteForce(p, roots)
		if ok != want {
			t.Fatalf("iteration %d: solver says %v, brute force %v; problem %+v roots %+v", iter, ok, want, p, roots)
		}
		if ok {
			p.check(t, roots, s.installed())
		}
	}
}

// bruteForce tries every choice of at most one candidate per name.
func bruteForce(p *toyProvider, roots []requirement) bool {
	choice := make([]int, len(p.names)) // 0: none, i: candidate i-1
	for {
		in := map[int32]bool{}
		for n, c := range choice {
			if c > 0 {
				in[p.names[n][c-1]] = true
			}
		}
		if valid(p, roots, in) {
			return true
		}
		i := 0
		for ; i < len(choice); i++ {
			choice[i]++
			if choice[i] <= len(p.names[i]) {
				break
			}
			choice[i] = 0
		}
		if i == len(choice) {
			return false
		}
	}
}

func valid(p *toyProvider, roots []requirement, in map[int32]bool) bool {
	anyIn := func(cands []int32) bool {
		for _, c := range cands {
			if in[c] {
				return true
			}
		}
		return false
	}
	for _, r := range roots {
		if !anyIn(r.cands) {
			return false
		}
	}
	for v := range in {
		for _, r := range p.reqs[v] {
			if !anyIn(r.cands) {
				return false
			}
		}
		for _, c := range p.cons[v] {
			if anyIn(c.excluded) {
				return false
			}
		}
	}
	return true
}

// TestCorePlantedSolutions builds larger random problems around a planted
// model (every requirement has a planted candidate when its parent is
// planted, no constraint excludes a planted candidate from a planted
// parent), so each is satisfiable and the core must find a model.
func TestCorePlantedSolutions(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for iter := range 300 {
		nNames := 5 + rng.IntN(40)
		counts := make([]int, nNames)
		for i := range counts {
			counts[i] = 1 + rng.IntN(8)
		}
		p := newToy(counts...)
		planted := map[int32]bool{}
		for n := range nNames {
			if rng.IntN(4) > 0 {
				planted[p.names[n][rng.IntN(len(p.names[n]))]] = true
			}
		}
		plantedOf := func(n int) int32 {
			for _, c := range p.names[n] {
				if planted[c] {
					return c
				}
			}
			return -1
		}
		for v := range int32(len(p.of)) {
			for range rng.IntN(5) {
				n := rng.IntN(nNames)
				var cands []int32
				for _, c := range p.names[n] {
					if rng.IntN(3) == 0 {
						cands = append(cands, c)
					}
				}
				if planted[v] {
					pc := plantedOf(n)
					if pc < 0 {
						continue
					}
					if !slices.Contains(cands, pc) {
						cands = append(cands, pc)
					}
				}
				if len(cands) > 0 {
					p.require(v, cands...)
				}
			}
			for range rng.IntN(3) {
				x := rng.Int32N(int32(len(p.of)))
				if p.of[x] == p.of[v] || (planted[v] && planted[x]) {
					continue
				}
				p.cons[v] = append(p.cons[v], constraint{excluded: []int32{x}})
			}
		}
		var roots []requirement
		for n := range nNames {
			if pc := plantedOf(n); pc >= 0 && rng.IntN(3) == 0 {
				cands := []int32{pc}
				for _, c := range p.names[n] {
					if c != pc && rng.IntN(2) == 0 {
						cands = append(cands, c)
					}
				}
				rng.Shuffle(len(cands), func(i, j int) { cands[i], cands[j] = cands[j], cands[i] })
				roots = append(roots, requirement{name: int32(n), cands: cands})
			}
		}
		s := newSAT(p)
		if ok, _ := s.solve(roots); !ok {
			t.Fatalf("iteration %d: planted problem reported unsatisfiable", iter)
		}
		p.check(t, roots, s.installed())
	}
}

// FuzzCore decodes bytes into a small problem and compares the core with
// exhaustive search.
func FuzzCore(f *testing.F) {
	f.Add([]byte{3, 2, 2, 1, 0, 1, 2, 3, 4, 5})
	f.Add([]byte{4, 3, 3, 3, 3, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 200, 100})
	f.Fuzz(func(t *testing.T, data []byte) {
		next := func() int {
			if len(data) == 0 {
				return 0
			}
			b := int(data[0])
			data = data[1:]
			return b
		}
		counts := make([]int, 1+next()%5)
		for i := range counts {
			counts[i] = 1 + next()%4
		}
		p := newToy(counts...)
		nv := int32(len(p.of))
		for v := range nv {
			for range next() % 3 {
				n := next() % len(counts)
				mask := next()
				var cands []int32
				for i, c := range p.names[n] {
					if mask&(1<<i) != 0 && c != v {
						cands = append(cands, c)
					}
				}
				if len(cands) > 0 || mask == 0 {
					p.require(v, cands...)
				}
			}
			if x := int32(next()) % nv; next()%3 == 0 && p.of[x] != p.of[v] {
				p.cons[v] = append(p.cons[v], constraint{excluded: []int32{x}})
			}
		}
		var roots []requirement
		for n := range counts {
			if mask := next(); mask%2 == 1 || n == 0 {
				var cands []int32
				for i, c := range p.names[n] {
					if mask&(2<<i) != 0 {
						cands = append(cands, c)
					}
				}
				roots = append(roots, requirement{name: int32(n), cands: cands})
			}
		}
		s := newSAT(p)
		ok, _ := s.solve(roots)
		if want := bruteForce(p, roots); ok != want {
			t.Fatalf("solver %v, brute force %v", ok, want)
		}
		if ok {
			p.check(t, roots, s.installed())
		}
	})
}
