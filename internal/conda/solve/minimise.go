package solve

// The core a refutation leaves is a proof, often with detours: steps the
// search happened to take that the contradiction does not need. minimise
// removes them, deletion-based: each requirement (and each constraint) of
// the core is dropped in turn, and stays dropped if what remains, with
// one record per name, is still unsatisfiable. What is left is minimal: every
// line of the explanation is needed.

// maxMinimise bounds the work: one solve per requirement of the core.
const maxMinimise = 120

// coreGroup is one requirement or constraint of a core, with the clauses it
// stands for in the main search.
type coreGroup struct {
	parent  int32 // -1 for a requested spec
	req     *requirement
	con     *constraint
	clauses []int32
}

// subProblem is a provider over some of the core's groups: the same
// variables and names (so the same one-per-name pairs), fewer clauses.
type subProblem struct {
	p    *pool
	reqs map[int32][]requirement
	cons map[int32][]constraint
}

func (sp *subProblem) nameOf(v int32) int32       { return sp.p.varName[v] }
func (sp *subProblem) candidates(n int32) []int32 { return sp.p.cands[n] }
func (sp *subProblem) expand(v int32) ([]requirement, []constraint) {
	return sp.reqs[v], sp.cons[v]
}

// minimise returns a minimal subset of the core's demands and constraints,
// with the names whose one-record rule it uses; ok is false when the core
// is too large to minimise or the check fails.
func (p *pool) minimise(s *sat, demands, constrains []int32) (d, c []int32, clash map[int32]bool, ok bool) {
	var groups []coreGroup
	for _, ci := range demands {
		cl := &s.clauses[ci]
		parent := cl.parent
		if cl.kind == kindRoot {
			parent = -1
		}
		groups = append(groups, coreGroup{parent: parent, req: &requirement{spec: cl.spec, name: cl.name, cands: cl.cands}, clauses: []int32{ci}})
	}
	byCon := map[[2]int32]int{}
	for _, ci := range constrains {
		cl := &s.clauses[ci]
		excluded := cl.lits[0].v()
		if excluded == cl.parent {
			excluded = cl.lits[1].v()
		}
		key := [2]int32{cl.parent, cl.spec}
		g, seen := byCon[key]
		if !seen {
			g = len(groups)
			byCon[key] = g
			groups = append(groups, coreGroup{parent: cl.parent, con: &constraint{spec: cl.spec}})
		}
		groups[g].con.excluded = append(groups[g].con.excluded, excluded)
		groups[g].clauses = append(groups[g].clauses, ci)
	}
	if len(groups) == 0 || len(groups) > maxMinimise {
		return nil, nil, nil, false
	}
	keep := make([]bool, len(groups))
	for i := range keep {
		keep[i] = true
	}
	unsat := func() (*sat, []int32, bool) {
		sp := &subProblem{p: p, reqs: map[int32][]requirement{}, cons: map[int32][]constraint{}}
		var roots []requirement
		for i, g := range groups {
			switch {
			case !keep[i]:
			case g.con != nil:
				sp.cons[g.parent] = append(sp.cons[g.parent], *g.con)
			case g.parent < 0:
				roots = append(roots, *g.req)
			default:
				sp.reqs[g.parent] = append(sp.reqs[g.parent], *g.req)
			}
		}
		sub := newSAT(sp)
		sat, core := sub.solve(roots)
		return sub, core, !sat
	}
	if _, _, isUnsat := unsat(); !isUnsat {
		return nil, nil, nil, false // cannot happen for a real core; keep the original
	}
	// Dependencies first, from the last found, then the requested specs.
	for pass := range 2 {
		for i := len(groups) - 1; i >= 0; i-- {
			if (groups[i].parent < 0) != (pass == 1) {
				continue
			}
			keep[i] = false
			if _, _, isUnsat := unsat(); !isUnsat {
				keep[i] = true
			}
		}
	}
	sub, core, _ := unsat()
	clash = map[int32]bool{}
	for _, ci := range core {
		if sub.clauses[ci].kind == kindForbid {
			clash[sub.clauses[ci].name] = true
		}
	}
	for i, g := range groups {
		switch {
		case !keep[i]:
		case g.con != nil:
			c = append(c, g.clauses...)
		default:
			d = append(d, g.clauses...)
		}
	}
	return d, c, clash, true
}
