// Package resolve chooses one wheel per Python project for a target
// interpreter and platform: a backtracking search over PEP 440 versions,
// PEP 508 markers and extras, and wheel tags, whose failures name the
// requirements in conflict.
package resolve

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/envkit/envkit/internal/pypi/index"
	"github.com/envkit/envkit/internal/pypi/metadata"
	"github.com/envkit/envkit/internal/pypi/pep440"
	"github.com/envkit/envkit/internal/pypi/pep508"
	"github.com/envkit/envkit/internal/pypi/tags"
	"github.com/envkit/envkit/internal/spec"
)

// Target is the interpreter and platform to resolve for.
type Target = tags.Target

// Options tune a resolution.
type Options struct {
	// Provided maps normalised project names to the versions the conda
	// environment already installs (python's own pip, numpy, ...): pip
	// does not install them again, and a requirement they do not satisfy
	// is a conflict.
	Provided map[string]string
	// MaxAttempts bounds the candidates tried (default 10000), so that a
	// hopeless search ends with an explanation instead of running on.
	MaxAttempts int
}

// Pin is one chosen wheel.
type Pin struct {
	// Name is the normalised project name.
	Name     string
	Version  string
	Filename string
	URL      string
	SHA256   string
	// Requires maps each dependency installed for this pin (normalised
	// name) to its specifier text ("" for any version).
	Requires map[string]string
}

// Overlap is a pip requirement left to the conda environment.
type Overlap struct {
	Name         string
	CondaVersion string
	// RequiredBy says who asked for it ("the definition", "pkg 1.0").
	RequiredBy string
}

// Result is a successful resolution.
type Result struct {
	// Pins are sorted by name.
	Pins    []Pin
	Overlap []Overlap
}

// Resolve resolves in against the indexes it names. ctx bounds network use.
func Resolve(ctx context.Context, in Input, target Target, opts Options) (*Result, error) {
	ranking, err := tags.NewRanking(target)
	if err != nil {
		return nil, err
	}
	env, err := pep508.TargetEnv(target.PythonVersion, target.Subdir)
	if err != nil {
		return nil, err
	}
	pyVersion := env["python_full_version"]
	r := &resolver{
		ctx: ctx, client: index.New(in.Index), target: target, env: env, ranking: ranking, pyVersion: pyVersion,
		pre: in.Pre, provided: opts.Provided, maxAttempts: orDefault(opts.MaxAttempts, 10000),
		projects: map[string]*pending{}, meta: map[string]*metadata.Metadata{}, sem: make(chan struct{}, prefetchers),
	}
	st := &state{pins: map[string]*pinned{}, constraints: map[string][]constraint{}, limits: map[string][]constraint{}}
	// Constraints first: a requirement added next meets those on its name.
	for _, c := range in.Constraints {
		if c.Applies(env, nil) {
			st.limits[c.Normalised()] = append(st.limits[c.Normalised()], constraint{req: c.Requirement, from: from("the constraints", c.Pos), hashes: c.Hashes, limit: true})
		}
	}
	for _, w := range in.Wheels {
		if w.Marker != nil && !w.Marker.Eval(env, nil) {
			continue
		}
		c, err := r.localWheel(w)
		if err != nil {
			return nil, err
		}
		st.add(c)
	}
	for _, req := range in.Requirements {
		if !req.Applies(env, nil) {
			continue
		}
		st.add(constraint{req: req.Requirement, from: from("the definition", req.Pos), hashes: req.Hashes})
	}
	final, err := r.solve(st)
	if err != nil {
		return nil, err
	}
	return final.result(r), nil
}

// from names who made a requirement: the definition or its constraints,
// at the line's position when known.
func from(who string, pos spec.Pos) string {
	if pos.File != "" || pos.Line != 0 {
		return who + " (" + pos.String() + ")"
	}
	return who
}

// localWheel is the requirement of a wheel file beside the definition: a
// direct reference to its path, pinned by its digest, whose metadata the
// caller read.
func (r *resolver) localWheel(w LocalWheel) (constraint, error) {
	fail := func(format string, a ...any) (constraint, error) {
		return constraint{}, fmt.Errorf("%s: %s: %s", w.Pos, w.Path, fmt.Sprintf(format, a...))
	}
	if w.Metadata == nil {
		return fail("the wheel's metadata was not read")
	}
	wn, err := tags.ParseWheelName(path.Base(w.Path))
	if err != nil {
		return fail("%v", err)
	}
	m := w.Metadata
	if err := m.Matches(wn); err != nil {
		return fail("%v", err)
	}
	if ok, err := tags.RequiresPython(m.RequiresPython, r.pyVersion); err != nil || !ok {
		return fail("requires python %s, the environment has %s", m.RequiresPython, r.pyVersion)
	}
	r.meta[w.Path] = m
	// Never looked up on the indexes: direct() makes its one candidate.
	r.projects[pep508.NormaliseName(wn.Name)] = done(&project{})
	return constraint{req: pep508.Requirement{Name: wn.Name, Extras: w.Extras, URL: w.Path + "#sha256=" + w.SHA256}, from: from("the definition", w.Pos)}, nil
}

func orDefault(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

type resolver struct {
	ctx         context.Context
	client      *index.Client
	target      Target
	env         pep508.Env
	ranking     tags.Ranking
	pyVersion   string
	pre         bool
	provided    map[string]string
	maxAttempts int
	attempts    int
	// projects is read and written by the search goroutine only; the
	// pages themselves arrive through pending.
	projects map[string]*pending
	sem      chan struct{}
	meta     map[string]*metadata.Metadata // by file URL
}

// constraint is a requirement on a project and who made it.
type constraint struct {
	req  pep508.Requirement
	from string
	// hashes, when set, are the only sha256 digests allowed.
	hashes []string
	// limit marks a line of a constraints file: it narrows the choice
	// and is not a reason to install.
	limit bool
}

func (c constraint) String() string {
	spec := c.req.Specifiers.String()
	if c.req.URL != "" {
		spec = " @ " + c.req.URL
	}
	if spec == "" {
		spec = " (any version)"
	}
	if len(c.hashes) > 0 {
		spec += fmt.Sprintf(" (%d allowed hashes)", len(c.hashes))
	}
	return fmt.Sprintf("%s%s from %s", c.req.Normalised(), spec, c.from)
}

type pinned struct {
	cand   *candidate
	extras []string
	deps   map[string]string
}

// state is one node of the search; children copy it (the maps are small).
type state struct {
	pins        map[string]*pinned
	constraints map[string][]constraint
	// queue holds names with constraints but no pin, in discovery order.
	queue []string
	// limits are the constraints files' lines by name, shared by every
	// state (never changed after Resolve starts): they join a name's
	// constraints when something first requires it.
	limits map[string][]constraint
}

func (s *state) clone() *state {
	c := &state{pins: maps.Clone(s.pins), constraints: map[string][]constraint{}, queue: slices.Clone(s.queue), limits: s.limits}
	for k, v := range s.constraints {
		c.constraints[k] = slices.Clone(v)
	}
	return c
}

func (s *state) add(c constraint) {
	name := c.req.Normalised()
	if _, seen := s.constraints[name]; !seen {
		s.queue = append(s.queue, name)
		s.constraints[name] = slices.Clone(s.limits[name])
	}
	s.constraints[name] = append(s.constraints[name], c)
}

func (s *state) extras(name string) []string {
	var out []string
	for _, c := range s.constraints[name] {
		out = append(out, c.req.Extras...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// conflict is a failure the search may back out of.
type conflict struct{ msg string }

func (c *conflict) Error() string { return c.msg }

func (r *resolver) solve(st *state) (*state, error) {
	var name string
	for len(st.queue) > 0 {
		n := st.queue[0]
		if _, ok := st.pins[n]; ok {
			st.queue = st.queue[1:]
			continue
		}
		if v, ok := r.provided[n]; ok {
			if err := r.checkProvided(st, n, v); err != nil {
				return nil, err
			}
			st.queue = st.queue[1:]
			continue
		}
		name = n
		break
	}
	if name == "" {
		return st, nil
	}
	r.prefetch(st.queue)
	cands, err := r.candidates(name, st.constraints[name])
	if err != nil {
		return nil, err
	}
	if len(cands) == 0 {
		return nil, r.noCandidate(name, st.constraints[name])
	}
	var first error
	for _, c := range cands {
		r.attempts++
		if r.attempts > r.maxAttempts {
			if first == nil {
				return nil, fmt.Errorf("gave up after trying %d candidates (at %s %s)", r.maxAttempts, name, c.version)
			}
			return nil, fmt.Errorf("gave up after trying %d candidates; the first conflict: %v", r.maxAttempts, first)
		}
		next, err := r.pin(st, name, c)
		if err == nil {
			next, err = r.solve(next)
		}
		if err == nil {
			return next, nil
		}
		var cf *conflict
		if !errors.As(err, &cf) {
			return nil, err
		}
		if first == nil {
			first = err
		}
	}
	if len(cands) == 1 {
		return nil, first
	}
	return nil, &conflict{fmt.Sprintf("no version of %s works (%d tried); with the newest, %s %s: %v",
		name, len(cands), name, cands[0].version, first)}
}

func (r *resolver) checkProvided(st *state, name, version string) error {
	v, err := pep440.Parse(version)
	if err != nil {
		return fmt.Errorf("conda provides %s %s, which is not a PEP 440 version", name, version)
	}
	for _, c := range st.constraints[name] {
		if c.req.URL != "" || !c.req.Specifiers.Contains(v) {
			return &conflict{fmt.Sprintf("%s: the conda environment installs %s %s", c, name, version)}
		}
	}
	return nil
}

// pin chooses c for name: its dependencies join the constraints, and any
// that contradicts a pin already made is a conflict.
func (r *resolver) pin(st *state, name string, c *candidate) (*state, error) {
	meta, err := r.metadata(name, c)
	if err != nil {
		return nil, err
	}
	next := st.clone()
	next.queue = next.queue[1:]
	p := &pinned{cand: c, extras: st.extras(name), deps: map[string]string{}}
	next.pins[name] = p
	// An extra the project does not declare selects nothing (pip warns
	// and goes on).
	if err := r.addDeps(next, name, p, meta, nil); err != nil {
		return nil, err
	}
	return next, nil
}

// addDeps adds the dependencies of name's pin that its extras select,
// checking each against the pins already made. With old set, the pin is
// being extended to more extras and only dependencies the old extras did
// not select are added. A pinned dependency asked for with new extras is
// extended in turn (pins are shared between states, so it is replaced,
// never changed).
func (r *resolver) addDeps(next *state, name string, p *pinned, meta *metadata.Metadata, old []string) error {
	from := fmt.Sprintf("%s %s", name, p.cand.version)
	for _, dep := range meta.RequiresDist {
		if !dep.Applies(r.env, p.extras) || old != nil && dep.Applies(r.env, old) {
			continue
		}
		dn := dep.Normalised()
		p.deps[dn] = strings.TrimSpace(dep.Specifiers.String() + extrasSuffix(dep.Extras))
		next.add(constraint{req: dep, from: from})
		if v, ok := r.provided[dn]; ok {
			// Left to conda: checked here, as the queue may be past it.
			if err := r.checkProvided(next, dn, v); err != nil {
				return err
			}
			continue
		}
		other, ok := next.pins[dn]
		if !ok {
			continue
		}
		if err := other.satisfies(dn, next.constraints[dn]); err != nil {
			return err
		}
		if subset(dep.Extras, other.extras) {
			continue
		}
		extended := &pinned{cand: other.cand, extras: next.extras(dn), deps: maps.Clone(other.deps)}
		next.pins[dn] = extended
		if err := r.addDeps(next, dn, extended, r.meta[other.cand.file.URL], append([]string{}, other.extras...)); err != nil {
			return err
		}
	}
	return nil
}

func extrasSuffix(extras []string) string {
	if len(extras) == 0 {
		return ""
	}
	return " [" + strings.Join(extras, ",") + "]"
}

func subset(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

func (p *pinned) satisfies(name string, cs []constraint) error {
	for _, c := range cs {
		if !c.allows(p.cand) {
			return &conflict{fmt.Sprintf("%s, but %s %s was chosen for %s", c, name, p.cand.version, others(cs, c))}
		}
	}
	return nil
}

func others(cs []constraint, skip constraint) string {
	var out []string
	for _, c := range cs {
		if c.from != skip.from {
			out = append(out, c.String())
		}
	}
	if len(out) == 0 {
		return "an earlier requirement"
	}
	return strings.Join(slices.Compact(out), "; ")
}

func (c constraint) allows(cand *candidate) bool {
	if len(c.hashes) > 0 && !slices.Contains(c.hashes, cand.file.SHA256) {
		return false
	}
	if c.req.URL != "" {
		return cand.file.URL == stripFragment(c.req.URL)
	}
	// A constraint that names a pre-release admits pre-releases.
	return c.req.Specifiers.Contains(cand.version)
}

// noCandidate explains why nothing matches: the constraints, and what
// exists.
func (r *resolver) noCandidate(name string, cs []constraint) error {
	var p *project
	if f, ok := r.projects[name]; ok {
		<-f.ready
		p = f.p
	}
	var lines []string
	for _, c := range cs {
		lines = append(lines, c.String())
	}
	msg := fmt.Sprintf("no version of %s satisfies %s", name, strings.Join(lines, " and "))
	switch {
	case p == nil || len(p.all) == 0 && len(p.skipped) == 0:
		msg = fmt.Sprintf("%s: no such project on %s", strings.Join(lines, " and "), r.where())
	case len(p.all) == 0:
		msg += "; no installable wheel: " + strings.Join(p.skipped, "; ")
	default:
		var vs []string
		for i, c := range p.all {
			if i == 8 {
				vs = append(vs, "...")
				break
			}
			vs = append(vs, c.version.String())
		}
		msg += "; wheels for " + r.target.Subdir + " python " + r.target.PythonVersion + ": " + strings.Join(vs, ", ")
		if len(p.skipped) > 0 {
			msg += fmt.Sprintf(" (%d other files skipped, e.g. %s)", len(p.skipped), p.skipped[0])
		}
	}
	return &conflict{msg}
}

func (r *resolver) where() string {
	w := r.client.Indexes()
	if len(w) == 0 {
		return "the --find-links locations"
	}
	return strings.Join(w, ", ")
}

func (st *state) result(r *resolver) *Result {
	res := &Result{}
	for name, p := range st.pins {
		res.Pins = append(res.Pins, Pin{
			Name: name, Version: p.cand.version.String(), Filename: p.cand.file.Filename,
			URL: p.cand.file.URL, SHA256: p.cand.file.SHA256, Requires: p.deps,
		})
	}
	slices.SortFunc(res.Pins, func(a, b Pin) int { return strings.Compare(a.Name, b.Name) })
	for name, cs := range st.constraints {
		if v, ok := r.provided[name]; ok {
			for _, c := range cs {
				if c.limit {
					continue
				}
				res.Overlap = append(res.Overlap, Overlap{Name: name, CondaVersion: v, RequiredBy: c.from})
			}
		}
	}
	slices.SortFunc(res.Overlap, func(a, b Overlap) int {
		return strings.Compare(a.Name+"\x00"+a.RequiredBy, b.Name+"\x00"+b.RequiredBy)
	})
	return res
}

func stripFragment(u string) string {
	u, _, _ = strings.Cut(u, "#")
	return u
}

func sha256hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
