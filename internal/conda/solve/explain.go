package solve

import (
	"fmt"
	"slices"
	"strings"
)

// UnsatisfiableError says why no set of records satisfies the request, as
// a chain of steps drawn from the clauses that refute it.
type UnsatisfiableError struct {
	// Steps are the lines of the explanation, in reading order.
	Steps []string
}

func (e *UnsatisfiableError) Error() string {
	return "the requested packages cannot be installed together:\n  " + strings.Join(e.Steps, "\n  ")
}

// explain renders an unsatisfiable core. Requirements come first, from the
// requested specs down to the dependencies they pull in (each with the
// candidates left to meet it), then the clashes that rule those candidates
// out: two specs on one name with no common candidate, constrains, and
// dependencies nothing provides.
func (p *pool) explain(s *sat, core []int32) error {
	demands, constrains, clashNames := partition(s, core)
	if d, c, n, ok := p.minimise(s, demands, constrains); ok {
		demands, constrains, clashNames = d, c, n
	}
	return p.render(s, demands, constrains, clashNames)
}

// partition sorts core clauses into demands (requested specs and
// dependencies), constraint clauses, and the names of forbid pairs.
func partition(s *sat, core []int32) (demands, constrains []int32, clashNames map[int32]bool) {
	clashNames = map[int32]bool{}
	for _, ci := range core {
		switch s.clauses[ci].kind {
		case kindRoot, kindRequires:
			demands = append(demands, ci)
		case kindConstrain:
			constrains = append(constrains, ci)
		case kindForbid:
			clashNames[s.clauses[ci].name] = true
		}
	}
	return demands, constrains, clashNames
}

// render writes the explanation of demands, constraints and clashes.
func (p *pool) render(s *sat, demands, constrains []int32, clashNames map[int32]bool) error {
	// Reading order: requested specs as given, then dependencies breadth
	// first from the records that need them.
	depth := map[int32]int{}
	var queue []int32
	for _, ci := range demands {
		if s.clauses[ci].kind == kindRoot {
			depth[ci] = 0
			queue = append(queue, ci)
		}
	}
	for len(queue) > 0 {
		at := queue[0]
		queue = queue[1:]
		for _, ci := range demands {
			if _, done := depth[ci]; done || !slices.Contains(s.clauses[at].cands, s.clauses[ci].parent) {
				continue
			}
			depth[ci] = depth[at] + 1
			queue = append(queue, ci)
		}
	}
	slices.SortStableFunc(demands, func(a, b int32) int {
		da, oka := depth[a]
		db, okb := depth[b]
		if !oka {
			da = 1 << 20
		}
		if !okb {
			db = 1 << 20
		}
		return da - db
	})

	// One line per requested spec, and per (package, dependency spec): the
	// builds of a package that share a dependency are listed together.
	type reqKey struct {
		kind   clauseKind
		parent string
		spec   int32
	}
	var steps []string
	var keys []reqKey
	parents := map[reqKey][]int32{}
	cands := map[reqKey][]int32{}
	for _, ci := range demands {
		c := &s.clauses[ci]
		k := reqKey{kind: c.kind, spec: c.spec}
		if c.kind == kindRequires {
			k.parent = p.recs[c.parent].Name
		}
		if _, ok := parents[k]; !ok {
			keys = append(keys, k)
			cands[k] = c.cands
		}
		if c.kind == kindRequires && !slices.Contains(parents[k], c.parent) {
			parents[k] = append(parents[k], c.parent)
		} else if parents[k] == nil {
			parents[k] = []int32{}
		}
	}
	for _, k := range keys {
		slices.Sort(parents[k]) // preference order, as candidates are listed
		spec := p.specText[k.spec]
		who := spec + " was requested"
		if k.kind == kindRequires {
			who = p.versions(parents[k]) + " needs " + spec
		}
		switch {
		case p.specErr[k.spec] != nil:
			steps = append(steps, fmt.Sprintf("%s, which is not a valid spec: %v", who, p.specErr[k.spec]))
		case len(cands[k]) == 0:
			steps = append(steps, who+", but "+p.nothingMatches(p.nameIDs[p.specs[k.spec].Name]))
		default:
			steps = append(steps, who+": "+p.versions(cands[k]))
		}
	}
	names := make([]int32, 0, len(clashNames))
	for n := range clashNames {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		var specs []string
		for _, k := range keys {
			if p.specErr[k.spec] != nil || p.nameIDs[p.specs[k.spec].Name] != n {
				continue
			}
			if k.kind == kindRoot {
				specs = append(specs, p.specText[k.spec]+" (requested)")
			} else {
				specs = append(specs, p.specText[k.spec]+" (needed by "+p.versions(parents[k])+")")
			}
		}
		if len(specs) >= 2 {
			steps = append(steps, fmt.Sprintf("only one %s can be installed, and no %s matches all of %s", p.names[n], p.names[n], joinAnd(specs)))
		} else {
			steps = append(steps, fmt.Sprintf("only one %s can be installed at a time", p.names[n]))
		}
	}
	type conKey struct {
		parent string
		spec   int32
	}
	excluded := map[conKey][]int32{}
	var order []conKey
	for _, ci := range constrains {
		c := &s.clauses[ci]
		k := conKey{p.parentText(c.parent), c.spec}
		if _, ok := excluded[k]; !ok {
			order = append(order, k)
		}
		excluded[k] = append(excluded[k], c.lits[0].v(), c.lits[1].v())
	}
	for _, k := range order {
		var out []int32
		for _, v := range excluded[k] {
			if p.recs[v].Name == p.specs[k.spec].Name {
				out = append(out, v)
			}
		}
		steps = append(steps, fmt.Sprintf("%s constrains %s, which rules out %s", k.parent, p.specText[k.spec], p.versions(out)))
	}
	const most = 40
	if len(steps) > most {
		steps = append(steps[:most], fmt.Sprintf("… and %d more reasons", len(steps)-most))
	}
	return &UnsatisfiableError{Steps: steps}
}

// parentText names the record behind a requirement.
func (p *pool) parentText(v int32) string {
	r := p.recs[v]
	return r.Name + " " + r.Version
}

// nothingMatches says why a requirement has no candidate.
func (p *pool) nothingMatches(n int32) string {
	all := p.candidates(n)
	if len(all) == 0 {
		if len(p.ix.ByName(p.names[n])) > 0 {
			return fmt.Sprintf("no %s is available for %s", p.names[n], p.opts.Platform)
		}
		return fmt.Sprintf("no package named %s is available", p.names[n])
	}
	return fmt.Sprintf("none of the available %s matches it (%s)", p.names[n], p.versions(all))
}

// versions lists records compactly: "python 3.10.4, 3.11.2 (3 builds)".
func (p *pool) versions(vs []int32) string {
	if len(vs) == 0 {
		return "nothing"
	}
	var order []string
	seen := map[string]bool{}
	for _, v := range vs {
		if ver := p.recs[v].Version; !seen[ver] {
			seen[ver] = true
			order = append(order, ver)
		}
	}
	const most = 6
	text := strings.Join(order[:min(len(order), most)], ", ")
	if len(order) > most {
		text += fmt.Sprintf(" and %d more version%s", len(order)-most, plural(len(order)-most))
	}
	if len(vs) > len(order) {
		text += fmt.Sprintf(" (%d builds)", len(vs))
	}
	return p.recs[vs[0]].Name + " " + text
}

func joinAnd(items []string) string {
	if len(items) <= 1 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
