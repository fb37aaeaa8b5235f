package solve

import (
	"cmp"
	"slices"
)

// The CDCL core. It knows nothing of conda: variables are candidates
// (records), grouped under names; a provider hands out, lazily, the
// candidates of a name and the requirements and constraints of a candidate.
// The design follows resolvo's (mamba-org/resolvo): clauses are generated
// only when a candidate first becomes true, decisions are taken in the
// provider's preference order so the first model found is the preferred one,
// and the clauses behind a refutation are kept to explain it.

// provider supplies the problem lazily. Variable and name ids are dense,
// small integers the provider allocates.
type provider interface {
	// nameOf is the name id of variable v.
	nameOf(v int32) int32
	// candidates lists every variable of name n, most preferred first.
	candidates(n int32) []int32
	// expand lists what variable v needs when it is installed.
	expand(v int32) ([]requirement, []constraint)
}

// requirement: one of cands must be installed. spec is an opaque id the
// provider uses in explanations.
type requirement struct {
	spec  int32
	name  int32
	cands []int32
}

// constraint: none of excluded may be installed (conda's constrains, seen
// from the records it rules out).
type constraint struct {
	spec     int32
	excluded []int32
}

// lit is a literal: variable<<1, low bit set for the negation.
type lit int32

func posLit(v int32) lit { return lit(v << 1) }
func negLit(v int32) lit { return lit(v<<1 | 1) }
func (l lit) v() int32   { return int32(l >> 1) }
func (l lit) neg() bool  { return l&1 == 1 }
func (l lit) not() lit   { return l ^ 1 }

type clauseKind uint8

const (
	kindRoot      clauseKind = iota // one of the candidates of a requested spec
	kindRequires                    // parent → one of the candidates of its dependency
	kindConstrain                   // parent → not this excluded candidate
	kindForbid                      // two candidates of one name exclude each other
	kindLearnt                      // derived by conflict analysis
)

// clause is a disjunction of literals; lits[0] and lits[1] are watched.
type clause struct {
	lits   []lit
	kind   clauseKind
	parent int32 // requires/constrain: the candidate that brought the clause in; -1 otherwise
	spec   int32 // root/requires/constrain: the provider's spec id; -1 otherwise
	name   int32 // root/requires: the name of the candidates; -1 otherwise
	// cands: root/requires: the candidates in preference order (the watch
	// scheme reorders lits).
	cands []int32
	// lbd is a learnt clause's number of distinct decision levels when it
	// was learnt (Glucose's quality measure: lower is better).
	lbd int32
	// from holds, for a learnt clause, the clauses it was resolved from, so
	// an unsatisfiable problem can be traced back to the original clauses.
	from []int32
}

const (
	unassigned int8 = 0
	valTrue    int8 = 1
	valFalse   int8 = -1
)

// watch is a clause watching a literal, with another of its literals as a
// blocker: when the blocker is true the clause is satisfied and need not
// be read (MiniSat's blocking literals).
type watch struct {
	clause  int32
	blocker lit
}

// sat is the search state.
type sat struct {
	p provider

	value    []int8  // per variable
	level    []int32 // per variable: decision level of its assignment
	reason   []int32 // per variable: clause that implied it, -1 for a decision
	expanded []bool  // per variable: its clauses exist
	seen     []bool  // per variable: scratch for conflict analysis

	nameTrue  []int32 // per name: the installed candidate, -1 if none
	nameKnown []bool  // per name: its forbid pairs may be created

	clauses []clause
	watches [][]watch // per literal: clauses watching it
	roots   []int32   // root clauses, in request order
	reqsOf  [][]int32 // per variable: its requires clauses
	pairs   map[[2]int32]int32

	trail    []lit
	trailLim []int // trail length at the start of each decision level
	qhead    int   // next trail entry to propagate

	units      []int32 // unit clauses made above level 0, to assert at level 0
	learnts    []int32 // learnt clauses still watched
	removed    []bool  // per clause: detached from the watches (kept for explanations)
	nextReduce int     // learnt clause count that triggers reduceLearnts

	conflicts int // statistics, for benchmarks and tests
	decisions int
}

func newSAT(p provider) *sat {
	return &sat{p: p, pairs: map[[2]int32]int32{}, nextReduce: firstReduce}
}

// Learnt clause database limits, after Glucose: reduce at 2,000 learnt
// clauses, then every 300 more.
const (
	firstReduce = 2000
	reduceStep  = 300
)

// lbd counts the distinct decision levels of a clause's literals.
func (s *sat) lbd(lits []lit) int32 {
	levels := map[int32]bool{}
	for _, l := range lits {
		levels[s.level[l.v()]] = true
	}
	return int32(len(levels))
}

// reduceLearnts detaches the worse half of the learnt clauses from the
// watches (highest LBD, then longest), keeping glue clauses (LBD ≤ 2) and
// those that are the reason of a current assignment. Detached clauses stay
// in s.clauses: the explanation of a later refutation may pass through them.
func (s *sat) reduceLearnts() {
	s.nextReduce = len(s.learnts) + reduceStep
	locked := func(ci int32) bool {
		v := s.clauses[ci].lits[0].v()
		return s.reason[v] == ci && s.value[v] != unassigned
	}
	var candidates, kept []int32
	for _, ci := range s.learnts {
		if s.clauses[ci].lbd <= 2 || len(s.clauses[ci].lits) <= 2 || locked(ci) {
			kept = append(kept, ci)
		} else {
			candidates = append(candidates, ci)
		}
	}
	slices.SortFunc(candidates, func(a, b int32) int {
		ca, cb := &s.clauses[a], &s.clauses[b]
		return cmp.Or(cmp.Compare(cb.lbd, ca.lbd), cmp.Compare(len(cb.lits), len(ca.lits)))
	})
	half := len(candidates) / 2
	for _, ci := range candidates[:half] {
		s.removed[ci] = true
	}
	s.learnts = append(kept, candidates[half:]...)
}

func (s *sat) ensureVar(v int32) {
	for int32(len(s.value)) <= v {
		s.value = append(s.value, unassigned)
		s.level = append(s.level, 0)
		s.reason = append(s.reason, -1)
		s.expanded = append(s.expanded, false)
		s.seen = append(s.seen, false)
		s.reqsOf = append(s.reqsOf, nil)
		s.watches = append(s.watches, nil, nil)
	}
	s.ensureName(s.p.nameOf(v))
}

func (s *sat) ensureName(n int32) {
	for int32(len(s.nameTrue)) <= n {
		s.nameTrue = append(s.nameTrue, -1)
		s.nameKnown = append(s.nameKnown, false)
	}
}

func (s *sat) litValue(l lit) int8 {
	v := s.value[l.v()]
	if l.neg() {
		return -v
	}
	return v
}

func (s *sat) decisionLevel() int32 { return int32(len(s.trailLim)) }

func (s *sat) assign(l lit, reason int32) {
	v := l.v()
	if l.neg() {
		s.value[v] = valFalse
	} else {
		s.value[v] = valTrue
		// A second candidate of a name can become true just before its
		// forbid pair conflicts; the name keeps its first.
		if n := s.p.nameOf(v); s.nameTrue[n] < 0 {
			s.nameTrue[n] = v
		}
	}
	s.level[v] = s.decisionLevel()
	s.reason[v] = reason
	s.trail = append(s.trail, l)
}

// addClause adds a clause while the search runs: every literal already
// false must be false at a level no higher than the current one, which holds
// because clauses are only generated for a candidate being propagated at the
// current level. It returns the index of a conflicting clause or -1.
func (s *sat) addClause(c clause) (idx int32, conflict int32) {
	for _, l := range c.lits {
		s.ensureVar(l.v())
	}
	idx = int32(len(s.clauses))
	// Order the literals so the watched pair is the best available: true or
	// unassigned first, then false ones from the highest level.
	rank := func(l lit) int32 {
		switch s.litValue(l) {
		case valTrue:
			return 1 << 30
		case unassigned:
			return 1<<30 - 1
		}
		return s.level[l.v()]
	}
	for i := 0; i < len(c.lits) && i < 2; i++ {
		best := i
		for j := i + 1; j < len(c.lits); j++ {
			if rank(c.lits[j]) > rank(c.lits[best]) {
				best = j
			}
		}
		c.lits[i], c.lits[best] = c.lits[best], c.lits[i]
	}
	s.clauses = append(s.clauses, c)
	s.removed = append(s.removed, false)
	if c.kind == kindLearnt {
		s.learnts = append(s.learnts, idx)
	}
	switch c.kind {
	case kindRoot:
		s.roots = append(s.roots, idx)
	case kindRequires:
		s.reqsOf[c.parent] = append(s.reqsOf[c.parent], idx)
	}
	switch len(c.lits) {
	case 0:
		return idx, idx
	case 1:
		// A unit clause has no watches: made above level 0, it is also
		// queued to be asserted at level 0 once propagation settles, so a
		// backjump cannot forget it.
		if s.decisionLevel() > 0 {
			s.units = append(s.units, idx)
		}
		switch s.litValue(c.lits[0]) {
		case valFalse:
			return idx, idx
		case unassigned:
			s.assign(c.lits[0], idx)
		}
		return idx, -1
	}
	s.watches[c.lits[0]] = append(s.watches[c.lits[0]], watch{idx, c.lits[1]})
	s.watches[c.lits[1]] = append(s.watches[c.lits[1]], watch{idx, c.lits[0]})
	switch {
	case s.litValue(c.lits[0]) == valFalse:
		return idx, idx
	case s.litValue(c.lits[0]) == unassigned && s.litValue(c.lits[1]) == valFalse:
		s.assign(c.lits[0], idx)
	}
	return idx, -1
}

// expandVar creates the clauses of a candidate that has just become true:
// its requirements, its constraints and the forbid pairs with the other
// candidates of its name. All of them are created even after one conflicts,
// since a variable is expanded only once.
func (s *sat) expandVar(v int32) int32 {
	s.expanded[v] = true
	conflict := int32(-1)
	add := func(c clause) int32 {
		idx, confl := s.addClause(c)
		if conflict < 0 {
			conflict = confl
		}
		return idx
	}
	reqs, cons := s.p.expand(v)
	for _, r := range reqs {
		s.ensureName(r.name)
		lits := make([]lit, 0, len(r.cands)+1)
		lits = append(lits, negLit(v))
		for _, c := range r.cands {
			lits = append(lits, posLit(c))
		}
		add(clause{lits: lits, cands: r.cands, kind: kindRequires, parent: v, spec: r.spec, name: r.name})
	}
	for _, c := range cons {
		for _, x := range c.excluded {
			add(clause{lits: []lit{negLit(v), negLit(x)}, kind: kindConstrain, parent: v, spec: c.spec, name: -1})
		}
	}
	for _, u := range s.p.candidates(s.p.nameOf(v)) {
		if u == v {
			continue
		}
		key := [2]int32{min(u, v), max(u, v)}
		if _, ok := s.pairs[key]; !ok {
			s.pairs[key] = add(clause{lits: []lit{negLit(v), negLit(u)}, kind: kindForbid, parent: -1, spec: -1, name: s.p.nameOf(v)})
		}
	}
	return conflict
}

// propagate runs unit propagation to a fixpoint and returns a conflicting
// clause or -1.
func (s *sat) propagate() int32 {
	for s.qhead < len(s.trail) {
		p := s.trail[s.qhead]
		s.qhead++
		if !p.neg() && !s.expanded[p.v()] {
			if confl := s.expandVar(p.v()); confl >= 0 {
				return confl
			}
		}
		falseLit := p.not()
		ws := s.watches[falseLit]
		kept := ws[:0]
		for i := 0; i < len(ws); i++ {
			w := ws[i]
			if s.removed[w.clause] {
				continue // dropped from this list as it goes by
			}
			if s.litValue(w.blocker) == valTrue {
				kept = append(kept, w)
				continue
			}
			c := &s.clauses[w.clause]
			if c.lits[0] == falseLit {
				c.lits[0], c.lits[1] = c.lits[1], c.lits[0]
			}
			if first := c.lits[0]; first != w.blocker && s.litValue(first) == valTrue {
				kept = append(kept, watch{w.clause, first})
				continue
			}
			moved := false
			for k := 2; k < len(c.lits); k++ {
				if s.litValue(c.lits[k]) != valFalse {
					c.lits[1], c.lits[k] = c.lits[k], c.lits[1]
					s.watches[c.lits[1]] = append(s.watches[c.lits[1]], watch{w.clause, c.lits[0]})
					moved = true
					break
				}
			}
			if moved {
				continue
			}
			kept = append(kept, watch{w.clause, c.lits[0]})
			if s.litValue(c.lits[0]) == valFalse {
				kept = append(kept, ws[i+1:]...)
				s.watches[falseLit] = kept
				return w.clause
			}
			s.assign(c.lits[0], w.clause)
		}
		s.watches[falseLit] = kept
	}
	return -1
}

// analyze derives the first-UIP clause from a conflict and the level to
// jump back to.
func (s *sat) analyze(confl int32) (learnt []lit, from []int32, back int32) {
	learnt = []lit{0} // slot for the asserting literal
	pending := 0
	idx := len(s.trail) - 1
	var p lit = -1
	cur := s.decisionLevel()
	var touched []int32
	for {
		from = append(from, confl)
		for _, q := range s.clauses[confl].lits {
			if p >= 0 && q == p {
				continue
			}
			v := q.v()
			if s.seen[v] {
				continue
			}
			s.seen[v] = true
			touched = append(touched, v)
			if s.level[v] == cur {
				pending++
			} else {
				learnt = append(learnt, q)
			}
		}
		for !s.seen[s.trail[idx].v()] {
			idx--
		}
		p = s.trail[idx]
		idx--
		s.seen[p.v()] = false // resolved away: not in the learnt clause
		pending--
		if pending == 0 {
			break
		}
		confl = s.reason[p.v()]
	}
	learnt[0] = p.not()
	// Drop literals implied by others of the clause (MiniSat's basic
	// minimisation); their reasons join the derivation.
	kept := learnt[:1]
	for _, q := range learnt[1:] {
		r := s.reason[q.v()]
		redundant := r >= 0
		if redundant {
			for _, o := range s.clauses[r].lits {
				if o.v() != q.v() && !s.seen[o.v()] && s.level[o.v()] != 0 {
					redundant = false
					break
				}
			}
		}
		if redundant {
			from = append(from, r)
		} else {
			kept = append(kept, q)
		}
	}
	learnt = kept
	for _, v := range touched {
		s.seen[v] = false
	}
	// Put the literal of the highest remaining level second: it is watched,
	// and its level is where the clause becomes unit.
	for i := 2; i < len(learnt); i++ {
		if s.level[learnt[i].v()] > s.level[learnt[1].v()] {
			learnt[1], learnt[i] = learnt[i], learnt[1]
		}
	}
	if len(learnt) > 1 {
		back = s.level[learnt[1].v()]
	}
	return learnt, from, back
}

func (s *sat) backjump(level int32) {
	if s.decisionLevel() <= level {
		return
	}
	start := s.trailLim[level]
	for i := len(s.trail) - 1; i >= start; i-- {
		v := s.trail[i].v()
		if n := s.p.nameOf(v); s.nameTrue[n] == v {
			s.nameTrue[n] = -1
		}
		s.value[v] = unassigned
		s.reason[v] = -1
	}
	s.trail = s.trail[:start]
	s.trailLim = s.trailLim[:level]
	s.qhead = start
}

// decide picks the next decision, resolvo-style: among the requirements
// not yet satisfied — requested specs first, then those of installed
// candidates in the order they were installed — the one with the fewest
// open candidates; it installs that requirement's most preferred open
// candidate. It returns false when every requirement is satisfied.
func (s *sat) decide() (lit, bool) {
	best, bestOpen := int32(-1), 0
	consider := func(ci int32) {
		c := &s.clauses[ci]
		// After propagation, an installed candidate of the name satisfies
		// the clause: otherwise its forbid pairs would have emptied it.
		if s.nameTrue[c.name] >= 0 {
			return
		}
		open := 0
		for _, v := range c.cands {
			if s.value[v] == unassigned {
				open++
			}
		}
		if best < 0 || open < bestOpen {
			best, bestOpen = ci, open
		}
	}
	for _, ci := range s.roots {
		consider(ci)
	}
	if best < 0 {
		for _, l := range s.trail {
			if !l.neg() {
				for _, ci := range s.reqsOf[l.v()] {
					consider(ci)
				}
			}
		}
	}
	if best < 0 {
		return 0, false
	}
	for _, v := range s.clauses[best].cands {
		if s.value[v] == unassigned {
			return posLit(v), true
		}
	}
	panic("solve: open requirement without an open candidate after propagation")
}

// solve searches for a model of the requested specs. When there is none it
// returns the original clauses of the refutation (an unsatisfiable core).
func (s *sat) solve(roots []requirement) (ok bool, core []int32) {
	for _, r := range roots {
		s.ensureName(r.name)
		lits := make([]lit, len(r.cands))
		for i, c := range r.cands {
			lits[i] = posLit(c)
		}
		if idx, confl := s.addClause(clause{lits: lits, cands: r.cands, kind: kindRoot, parent: -1, spec: r.spec, name: r.name}); confl >= 0 {
			return false, s.core(idx)
		}
	}
	for {
		if confl := s.propagate(); confl >= 0 {
			s.conflicts++
			if s.decisionLevel() == 0 {
				return false, s.core(confl)
			}
			learnt, from, back := s.analyze(confl)
			s.backjump(back)
			if _, confl := s.addClause(clause{lits: learnt, kind: kindLearnt, parent: -1, spec: -1, name: -1, from: from, lbd: s.lbd(learnt)}); confl >= 0 {
				panic("solve: learnt clause conflicts after backjump")
			}
			if len(s.learnts) >= s.nextReduce {
				s.reduceLearnts()
			}
			continue
		}
		if len(s.units) > 0 {
			if confl := s.assertUnits(); confl >= 0 {
				return false, s.core(confl)
			}
			continue
		}
		l, open := s.decide()
		if !open {
			return true, nil
		}
		s.decisions++
		s.trailLim = append(s.trailLim, len(s.trail))
		s.assign(l, -1)
	}
}

// assertUnits moves the queued unit clauses to level 0 (a restart when
// any is not already a level-0 fact) and returns a clause violated at level 0,
// or -1.
func (s *sat) assertUnits() int32 {
	units := s.units
	s.units = nil
	for _, ci := range units {
		l := s.clauses[ci].lits[0]
		if s.litValue(l) != valTrue || s.level[l.v()] > 0 {
			s.backjump(0)
			break
		}
	}
	for _, ci := range units {
		switch l := s.clauses[ci].lits[0]; s.litValue(l) {
		case valFalse:
			return ci
		case unassigned:
			s.assign(l, ci)
		}
	}
	return -1
}

// installed lists the true variables of a model.
func (s *sat) installed() []int32 {
	var out []int32
	for v, val := range s.value {
		if val == valTrue {
			out = append(out, int32(v))
		}
	}
	return out
}

// core collects the original clauses behind a conflict at level 0: the
// conflicting clause, the reasons of its literals' level-0 assignments,
// recursively, and the clauses every learnt clause among them came from.
func (s *sat) core(confl int32) []int32 {
	var out []int32
	collected := map[int32]bool{} // clause counted (original) or unfolded (learnt)
	traced := map[int32]bool{}    // clause whose literals' reasons were followed
	var collect func(ci int32)
	collect = func(ci int32) {
		if collected[ci] {
			return
		}
		collected[ci] = true
		if c := &s.clauses[ci]; c.kind == kindLearnt {
			for _, f := range c.from {
				collect(f)
			}
		} else {
			out = append(out, ci)
		}
	}
	work := []int32{confl}
	for len(work) > 0 {
		ci := work[len(work)-1]
		work = work[:len(work)-1]
		if traced[ci] {
			continue
		}
		traced[ci] = true
		collect(ci)
		for _, l := range s.clauses[ci].lits {
			if r := s.reason[l.v()]; r >= 0 && r != ci && s.litValue(l) == valFalse {
				work = append(work, r)
			}
		}
	}
	return out
}
