// Package envdiff computes the semantic difference between two environment
// definitions (and their locks): packages added, removed and re-pinned,
// base image, steps, channels, variables, and whether the definition hash
// changed. It compares meaning, not text: reordered dependencies, another
// file format or other formatting make no difference.
package envdiff

import (
	"fmt"
	"slices"
	"strings"

	"github.com/envkit/envkit/internal/conda/lock"
	"github.com/envkit/envkit/internal/conda/matchspec"
	"github.com/envkit/envkit/internal/hash"
	"github.com/envkit/envkit/internal/pypi/pep508"
	"github.com/envkit/envkit/internal/spec"
)

// Kinds of change.
const (
	Added    = "added"
	Removed  = "removed"
	Changed  = "changed"  // a value other than a package spec
	Repinned = "repinned" // a package whose spec changed
)

// Change is one named thing that differs: a package, a variable, a field.
type Change struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
}

// StepChange is one line of the steps' edit script.
type StepChange struct {
	Kind        string `json:"kind"` // Added or Removed
	Instruction string `json:"instruction"`
}

// LockChange is one locked package that differs on a platform.
type LockChange struct {
	Platform string `json:"platform"`
	Manager  string `json:"manager"`
	Change
}

// Report is the difference from A to B. Empty slices and nil fields mean
// no difference there.
type Report struct {
	HashA       string `json:"hash_a"`
	HashB       string `json:"hash_b"`
	HashChanged bool   `json:"hash_changed"`

	// Fields holds single-valued fields: base image, Dockerfile, build
	// context files, python management, prefix, platforms, channels.
	Fields         []Change     `json:"fields"`
	Steps          []StepChange `json:"steps"`
	Conda          []Change     `json:"conda"`
	Pip            []Change     `json:"pip"`
	CondaVariables []Change     `json:"conda_variables"`
	Env            []Change     `json:"env"`
	Spark          []Change     `json:"spark"`
	Lock           []LockChange `json:"lock"`
	// Metadata: name, version, description, tags; never in the hash.
	Metadata []Change `json:"metadata"`
}

// Same tells whether nothing at all differs.
func (r *Report) Same() bool {
	return !r.HashChanged && len(r.Fields)+len(r.Steps)+len(r.Conda)+len(r.Pip)+len(r.CondaVariables)+
		len(r.Env)+len(r.Spark)+len(r.Lock)+len(r.Metadata) == 0
}

// Compare returns the difference from a to b. A lock may be nil (none).
func Compare(a, b *spec.Definition, lockA, lockB *lock.Lock) (*Report, error) {
	ha, err := hash.Of(a)
	if err != nil {
		return nil, err
	}
	hb, err := hash.Of(b)
	if err != nil {
		return nil, err
	}
	r := &Report{HashA: ha, HashB: hb, HashChanged: ha != hb}

	field := func(name, before, after string) {
		if before != after {
			r.Fields = append(r.Fields, valueChange(name, before, after))
		}
	}
	field("base image", a.Base.Image, b.Base.Image)
	field("base dockerfile", a.Base.Dockerfile, b.Base.Dockerfile)
	field("base context files", contextFiles(a), contextFiles(b))
	field("python", pythonText(a.Python), pythonText(b.Python))
	field("prefix", a.EffectivePrefix(), b.EffectivePrefix())
	field("platforms", strings.Join(a.Platforms, " "), strings.Join(b.Platforms, " "))
	field("channels", strings.Join(channels(a), " "), strings.Join(channels(b), " "))

	r.Steps = stepChanges(instructions(a.Steps), instructions(b.Steps))
	r.Conda = keyed(condaDeps(a), condaDeps(b), condaName, condaCanonical)
	r.Pip = keyed(pipReqs(a), pipReqs(b), pipName, pipCanonical)
	r.CondaVariables = vars(condaVars(a), condaVars(b))
	r.Env = vars(a.Env, b.Env)
	r.Spark = keyed(mavenCoords(a.Spark), mavenCoords(b.Spark), mavenName, mavenCanonical)
	r.Lock = lockChanges(lockA, lockB)

	meta := func(name, before, after string) {
		if before != after {
			r.Metadata = append(r.Metadata, valueChange(name, before, after))
		}
	}
	meta("name", a.Name, b.Name)
	meta("version", a.Version, b.Version)
	meta("description", a.Description, b.Description)
	for _, c := range vars(tagVars(a.Tags), tagVars(b.Tags)) {
		c.Name = "tag " + c.Name
		r.Metadata = append(r.Metadata, c)
	}
	return r, nil
}

func valueChange(name, before, after string) Change {
	switch {
	case before == "":
		return Change{Name: name, Kind: Added, After: after}
	case after == "":
		return Change{Name: name, Kind: Removed, Before: before}
	}
	return Change{Name: name, Kind: Changed, Before: before, After: after}
}

func contextFiles(d *spec.Definition) string {
	var out []string
	for _, f := range d.Base.ContextFiles {
		out = append(out, f.Path+"@"+f.Digest)
	}
	return strings.Join(out, " ")
}

func pythonText(p spec.Python) string {
	if !p.UserManaged {
		return "conda"
	}
	if p.Interpreter == "" {
		return "user-managed"
	}
	return "user-managed (" + p.Interpreter + ")"
}

func channels(d *spec.Definition) []string {
	if d.Conda == nil {
		return nil
	}
	return d.Conda.ChannelNames()
}

func instructions(steps []spec.Step) []string {
	out := make([]string, len(steps))
	for i, s := range steps {
		out[i] = s.Instruction
	}
	return out
}

func condaDeps(d *spec.Definition) []string {
	if d.Conda == nil {
		return nil
	}
	return spec.Specs(d.Conda.Dependencies)
}

// pipReqs is the conda file's pip part and the top-level pip list: both
// end up in the same site-packages.
func pipReqs(d *spec.Definition) []string {
	var out []string
	if d.Conda != nil {
		out = spec.Specs(d.Conda.Pip)
	}
	return append(out, spec.Specs(d.Pip)...)
}

func condaVars(d *spec.Definition) []spec.EnvVar {
	if d.Conda == nil {
		return nil
	}
	return d.Conda.Variables
}

func tagVars(tags map[string]string) []spec.EnvVar {
	var out []spec.EnvVar
	for k, v := range tags {
		out = append(out, spec.EnvVar{Name: k, Value: v})
	}
	slices.SortFunc(out, func(a, b spec.EnvVar) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func mavenCoords(s *spec.Spark) []string {
	if s == nil {
		return nil
	}
	out := make([]string, len(s.Packages))
	for i, p := range s.Packages {
		out[i] = p.Group + ":" + p.Artifact + ":" + p.Version
	}
	return out
}

// condaName is a MatchSpec's package name; a spec that does not parse
// (validation reports it) is its own key.
func condaName(s string) string {
	if m, err := matchspec.Parse(s); err == nil && m.Name != "" {
		return m.Name
	}
	return s
}

// pipName is a requirement's PEP 503 project name; option lines, paths
// and anything else that is not a PEP 508 requirement are their own key.
func pipName(s string) string {
	if r, err := pep508.Parse(s); err == nil {
		return r.Normalised()
	}
	return strings.TrimSpace(s)
}

// pipCanonical is a requirement in pep508's canonical form with its name
// normalised, so only a different pin, extra or marker compares unequal.
func pipCanonical(s string) string {
	r, err := pep508.Parse(s)
	if err != nil {
		return strings.Join(strings.Fields(s), " ")
	}
	r.Name = r.Normalised()
	return r.String()
}

// condaCanonical is a MatchSpec in matchspec's canonical form.
func condaCanonical(s string) string {
	if m, err := matchspec.Parse(s); err == nil {
		return m.String()
	}
	return strings.Join(strings.Fields(s), "")
}

func mavenCanonical(s string) string { return s }

func mavenName(coord string) string {
	i := strings.LastIndex(coord, ":")
	return coord[:i]
}

// keyed compares two spec lists by the key each spec names, specs by
// their canonical form. Several specs for one key are taken together.
func keyed(a, b []string, key, canonical func(string) string) []Change {
	group := func(specs []string) (map[string][]string, []string) {
		m := map[string][]string{}
		var order []string
		for _, s := range specs {
			k := key(s)
			if _, ok := m[k]; !ok {
				order = append(order, k)
			}
			m[k] = append(m[k], s)
		}
		return m, order
	}
	ma, orderA := group(a)
	mb, orderB := group(b)
	var out []Change
	for _, k := range orderA {
		before := strings.Join(ma[k], ", ")
		after, ok := mb[k]
		switch {
		case !ok:
			out = append(out, Change{Name: k, Kind: Removed, Before: before})
		case !slices.Equal(normalised(ma[k], canonical), normalised(after, canonical)):
			out = append(out, Change{Name: k, Kind: Repinned, Before: before, After: strings.Join(after, ", ")})
		}
	}
	for _, k := range orderB {
		if _, ok := ma[k]; !ok {
			out = append(out, Change{Name: k, Kind: Added, After: strings.Join(mb[k], ", ")})
		}
	}
	slices.SortStableFunc(out, func(x, y Change) int { return strings.Compare(x.Name, y.Name) })
	return out
}

// normalised is the sorted canonical forms of specs.
func normalised(specs []string, canonical func(string) string) []string {
	out := make([]string, len(specs))
	for i, s := range specs {
		out[i] = canonical(s)
	}
	slices.Sort(out)
	return out
}

// vars compares variables by name.
func vars(a, b []spec.EnvVar) []Change {
	ma := map[string]string{}
	for _, v := range a {
		ma[v.Name] = v.Value
	}
	mb := map[string]string{}
	for _, v := range b {
		mb[v.Name] = v.Value
	}
	var out []Change
	for _, v := range a {
		after, ok := mb[v.Name]
		switch {
		case !ok:
			out = append(out, Change{Name: v.Name, Kind: Removed, Before: v.Value})
		case after != v.Value:
			out = append(out, Change{Name: v.Name, Kind: Changed, Before: v.Value, After: after})
		}
	}
	for _, v := range b {
		if _, ok := ma[v.Name]; !ok {
			out = append(out, Change{Name: v.Name, Kind: Added, After: v.Value})
		}
	}
	return out
}

// stepChanges is the shortest edit script from a to b (longest common
// subsequence), since steps are ordered and may repeat.
func stepChanges(a, b []string) []StepChange {
	// lcs[i][j] is the LCS length of a[i:] and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []StepChange
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			i++
			j++
		case i < len(a) && (j == len(b) || lcs[i+1][j] >= lcs[i][j+1]):
			out = append(out, StepChange{Removed, a[i]})
			i++
		default:
			out = append(out, StepChange{Added, b[j]})
			j++
		}
	}
	return out
}

// lockChanges compares locked packages per platform and manager.
func lockChanges(a, b *lock.Lock) []LockChange {
	type key struct{ platform, manager, name string }
	index := func(l *lock.Lock) map[key]string {
		m := map[key]string{}
		if l == nil {
			return m
		}
		for _, p := range l.Packages {
			v := p.Version
			if p.Build != "" {
				v += " " + p.Build
			}
			m[key{p.Platform, p.Manager, p.Name}] = v
		}
		return m
	}
	ma, mb := index(a), index(b)
	keys := map[key]bool{}
	for k := range ma {
		keys[k] = true
	}
	for k := range mb {
		keys[k] = true
	}
	var out []LockChange
	for k := range keys {
		before, inA := ma[k]
		after, inB := mb[k]
		c := LockChange{Platform: k.platform, Manager: k.manager, Change: Change{Name: k.name, Before: before, After: after}}
		switch {
		case !inA:
			c.Kind = Added
		case !inB:
			c.Kind = Removed
		case before != after:
			c.Kind = Changed
		default:
			continue
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(x, y LockChange) int {
		return strings.Compare(fmt.Sprint(x.Platform, "\x00", x.Manager, "\x00", x.Name), fmt.Sprint(y.Platform, "\x00", y.Manager, "\x00", y.Name))
	})
	return out
}
