// Package solve chooses the conda records to install for a set of
// MatchSpecs: a complete CDCL search (sat.go) over the records of an index,
// taking decisions in conda's preference order so the first solution found
// is the preferred one, and explaining in plain words why there is none.
// See docs/solver.md.
package solve

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/envkit/envkit/internal/conda/matchspec"
	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/envkit/envkit/internal/conda/version"
)

// Options tune a solve.
type Options struct {
	// Platform is the subdir solved for ("linux-64"): records of that subdir
	// and of noarch are candidates (and records without a subdir, such as
	// virtual packages, whose names start with "__"). Empty means every
	// record of the index.
	Platform string
	// FlexiblePriority lets a package come from any channel; by default
	// (strict priority, conda's recommended setting) a name found in a
	// higher-priority channel is only taken from that channel.
	FlexiblePriority bool
}

// Stats describe the search, for benchmarks and tests.
type Stats struct {
	Records   int // records turned into variables
	Clauses   int
	Decisions int
	Conflicts int
}

// Solve returns the records to install for specs, sorted by name, or an
// *UnsatisfiableError explaining why there are none. Virtual packages are
// ordinary records of the index (from a channel outside the priority list).
func Solve(ix *repodata.Index, specs []string, opts Options) ([]*repodata.Record, Stats, error) {
	p := newPool(ix, opts)
	parsed := make([]*matchspec.MatchSpec, len(specs))
	for i, s := range specs {
		_, ms, err := p.spec(s)
		if err != nil {
			return nil, Stats{}, err
		}
		if ms.Name == "" || strings.ContainsAny(ms.Name, "*?[") {
			return nil, Stats{}, fmt.Errorf("%q: a requested spec must name one package (name globs and nameless specs such as *[track_features=mkl] are not supported)", s)
		}
		parsed[i] = ms
		// A requested spec naming a channel takes its package from that
		// channel even if a higher-priority one has the name too.
		if ms.Channel != "" {
			p.anyChannel[ms.Name] = true
		}
	}
	var roots []requirement
	for i, s := range specs {
		id, _, _ := p.spec(s)
		n := p.nameID(parsed[i].Name)
		roots = append(roots, requirement{spec: id, name: n, cands: p.matching(id, n)})
	}
	core := newSAT(p)
	ok, unsat := core.solve(roots)
	st := Stats{Records: len(p.recs), Clauses: len(core.clauses), Decisions: core.decisions, Conflicts: core.conflicts}
	if !ok {
		return nil, st, p.explain(core, unsat)
	}
	var out []*repodata.Record
	for _, v := range core.installed() {
		out = append(out, p.recs[v])
	}
	slices.SortFunc(out, func(a, b *repodata.Record) int { return cmp.Compare(a.Name, b.Name) })
	return out, st, nil
}

// pool is the provider: it turns records into variables as names come up,
// and specs into candidate lists, caching both.
type pool struct {
	ix   *repodata.Index
	opts Options

	recs    []*repodata.Record // variable → record
	vers    []version.Version  // variable → parsed version
	varName []int32            // variable → name

	names   []string         // name id → name
	nameIDs map[string]int32 // name → id
	cands   [][]int32        // name id → candidates, preferred first (nil: not yet built)
	built   []bool

	specs    []*matchspec.MatchSpec // spec id → spec (nil when it did not parse)
	specText []string               // spec id → text as written
	specErr  []error                // spec id → parse error
	specIDs  map[string]int32
	matches  map[[2]int32][]int32 // (spec, name) → matching candidates

	deps     map[int32]expansion                    // variable → cached expansion
	best     map[string]bestSeen                    // dependency spec → best version it admits
	depNames map[*repodata.Record]map[string]string // record → dependency name → spec

	anyChannel map[string]bool // names requested from a named channel
}

type bestSeen struct {
	v  version.Version
	ok bool
}

type expansion struct {
	reqs []requirement
	cons []constraint
}

func newPool(ix *repodata.Index, opts Options) *pool {
	return &pool{ix: ix, opts: opts, nameIDs: map[string]int32{}, specIDs: map[string]int32{},
		matches: map[[2]int32][]int32{}, deps: map[int32]expansion{}, best: map[string]bestSeen{}, depNames: map[*repodata.Record]map[string]string{},
		anyChannel: map[string]bool{}}
}

func (p *pool) nameID(name string) int32 {
	if id, ok := p.nameIDs[name]; ok {
		return id
	}
	id := int32(len(p.names))
	p.nameIDs[name] = id
	p.names = append(p.names, name)
	p.cands = append(p.cands, nil)
	p.built = append(p.built, false)
	return id
}

func (p *pool) nameOf(v int32) int32 { return p.varName[v] }

// candidates builds, once per name, the variables of the records a solve
// may choose: the platform's and noarch records of the highest-priority
// channel that has the name (all channels under flexible priority), in
// preference order.
func (p *pool) candidates(n int32) []int32 {
	if p.built[n] {
		return p.cands[n]
	}
	p.built[n] = true
	var recs []*repodata.Record
	best := -1
	for _, r := range p.ix.ByName(p.names[n]) {
		if !p.forPlatform(r) {
			continue
		}
		if !p.opts.FlexiblePriority && !p.anyChannel[p.names[n]] {
			rank := p.ix.ChannelRank(r.Channel)
			if best >= 0 && rank > best {
				continue // ByName lists channels in priority order
			}
			best = rank
		}
		recs = append(recs, r)
	}
	type cand struct {
		r *repodata.Record
		v version.Version
	}
	cs := make([]cand, 0, len(recs))
	for _, r := range recs {
		v, err := version.Parse(r.Version)
		if err != nil {
			continue // a record whose version conda cannot read is never chosen
		}
		cs = append(cs, cand{r, v})
	}
	slices.SortStableFunc(cs, func(a, b cand) int {
		if c := cmp.Or(
			cmp.Compare(len(a.r.TrackFeatures), len(b.r.TrackFeatures)),
			-a.v.Compare(b.v),
			-cmp.Compare(a.r.BuildNumber, b.r.BuildNumber),
		); c != 0 {
			return c
		}
		// Only now: comparing dependencies is the expensive step.
		return cmp.Or(
			-p.compareDependencies(a.r, b.r),
			-cmp.Compare(a.r.Timestamp, b.r.Timestamp),
			cmp.Compare(p.ix.ChannelRank(a.r.Channel), p.ix.ChannelRank(b.r.Channel)),
			cmp.Compare(a.r.Filename, b.r.Filename),
		)
	})
	ids := make([]int32, len(cs))
	for i, c := range cs {
		ids[i] = int32(len(p.recs))
		p.recs = append(p.recs, c.r)
		p.vers = append(p.vers, c.v)
		p.varName = append(p.varName, n)
	}
	p.cands[n] = ids
	return ids
}

// forPlatform tells whether a record may be installed on the platform
// solved for: its subdir or noarch; virtual packages (CEP 30: "__" names)
// always, as the caller made them for that platform.
func (p *pool) forPlatform(r *repodata.Record) bool {
	switch {
	case p.opts.Platform == "", r.Subdir == p.opts.Platform, r.Subdir == "noarch", r.Subdir == "":
		return true
	}
	return strings.HasPrefix(r.Name, "__")
}

// compareDependencies ranks two builds of one version by what their
// dependencies allow (rattler's rule): for each dependency name both have,
// in name order, the build whose spec admits the higher best version wins,
// so numpy's py312 build beats its py38 build when nothing pins python. A
// dependency nothing satisfies ranks lowest. It looks at records directly,
// not at candidates, so sorting one name never sorts another.
func (p *pool) compareDependencies(a, b *repodata.Record) int {
	if len(a.Depends) == 0 || len(b.Depends) == 0 {
		return 0
	}
	da, db := p.depsByName(a), p.depsByName(b)
	var shared []string
	for name, sa := range da {
		if sb, ok := db[name]; ok && sa != sb {
			shared = append(shared, name)
		}
	}
	slices.Sort(shared)
	for _, name := range shared {
		va, oka := p.bestVersion(da[name])
		vb, okb := p.bestVersion(db[name])
		switch {
		case oka && okb:
			if c := va.Compare(vb); c != 0 {
				return c
			}
		case oka != okb:
			if oka {
				return 1
			}
			return -1
		}
	}
	return 0
}

// depsByName maps a record's dependency names to their specs, once per
// record.
func (p *pool) depsByName(r *repodata.Record) map[string]string {
	if m, ok := p.depNames[r]; ok {
		return m
	}
	m := make(map[string]string, len(r.Depends))
	for _, d := range r.Depends {
		if _, ms, err := p.spec(d); err == nil {
			m[ms.Name] = d
		}
	}
	p.depNames[r] = m
	return m
}

// bestVersion is the highest version of a record, available to this solve,
// that a (parsed, cached) dependency spec matches.
func (p *pool) bestVersion(spec string) (version.Version, bool) {
	if b, ok := p.best[spec]; ok {
		return b.v, b.ok
	}
	var best version.Version
	found := false
	if _, ms, err := p.spec(spec); err == nil {
		for _, r := range p.ix.ByName(ms.Name) {
			if !p.forPlatform(r) || !ms.Matches(r) {
				continue
			}
			v, err := version.Parse(r.Version)
			if err == nil && (!found || v.Compare(best) > 0) {
				best, found = v, true
			}
		}
	}
	p.best[spec] = bestSeen{best, found}
	return best, found
}

// spec parses a spec once per distinct text.
func (p *pool) spec(s string) (int32, *matchspec.MatchSpec, error) {
	if id, ok := p.specIDs[s]; ok {
		return id, p.specs[id], p.specErr[id]
	}
	ms, err := matchspec.Parse(s)
	id := int32(len(p.specs))
	p.specIDs[s] = id
	p.specs = append(p.specs, ms)
	p.specText = append(p.specText, s)
	p.specErr = append(p.specErr, err)
	return id, ms, err
}

// matching lists the candidates of name n that spec id matches.
func (p *pool) matching(id, n int32) []int32 {
	key := [2]int32{id, n}
	if m, ok := p.matches[key]; ok {
		return m
	}
	var out []int32
	if ms := p.specs[id]; ms != nil {
		for _, v := range p.candidates(n) {
			if ms.MatchesParsed(p.recs[v], p.vers[v]) {
				out = append(out, v)
			}
		}
	}
	p.matches[key] = out
	return out
}

// expand turns a record's depends into requirements and its constrains
// into exclusions. A dependency that does not parse can never be met, so
// the record is uninstallable and the explanation names the bad spec.
func (p *pool) expand(v int32) ([]requirement, []constraint) {
	if e, ok := p.deps[v]; ok {
		return e.reqs, e.cons
	}
	r := p.recs[v]
	var e expansion
	for _, d := range r.Depends {
		id, ms, err := p.spec(d)
		if err != nil {
			e.reqs = append(e.reqs, requirement{spec: id, name: p.nameID(badSpecName(d)), cands: nil})
			continue
		}
		n := p.nameID(ms.Name)
		e.reqs = append(e.reqs, requirement{spec: id, name: n, cands: p.matching(id, n)})
	}
	for _, c := range r.Constrains {
		id, ms, err := p.spec(c)
		if err != nil {
			continue // a constraint conda cannot read constrains nothing
		}
		n := p.nameID(ms.Name)
		ok := p.matching(id, n)
		var excluded []int32
		for _, u := range p.candidates(n) {
			if !slices.Contains(ok, u) {
				excluded = append(excluded, u)
			}
		}
		if len(excluded) > 0 {
			e.cons = append(e.cons, constraint{spec: id, excluded: excluded})
		}
	}
	p.deps[v] = e
	return e.reqs, e.cons
}

// badSpecName is the name slot of a dependency that did not parse, so the
// requirement still has a name to group under.
func badSpecName(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return s
}
