// Package relock solves a conda environment again while keeping what its
// lock pinned: only the packages named for update, and those that must
// move with them, change. docs/lock.md ("envkit lock: when pins move")
// states the rule for users.
package relock

import (
	"slices"
	"strings"

	"github.com/envkit/envkit/internal/conda/matchspec"
	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/envkit/envkit/internal/conda/solve"
)

// Universe is what one platform's solve chooses from: the records of the
// channels (and the virtual packages) as loaded, so that indexes with an
// extra record can be built for each attempt without copying them.
type Universe struct {
	// Channels are canonical channel URLs, highest priority first.
	Channels []string
	Records  [][]repodata.Record
}

// Index indexes the universe plus extra records.
func (u Universe) Index(extra ...[]repodata.Record) *repodata.Index {
	return repodata.NewIndex(u.Channels, append(slices.Clone(u.Records), extra...)...)
}

// Request is a re-solve of a locked platform.
type Request struct {
	// Specs are the definition's conda MatchSpecs.
	Specs []string
	// Locked are the lock's conda records for the platform.
	Locked []repodata.Record
	// Update names the packages that may move freely; every other locked
	// package keeps its record unless no solution allows it.
	Update []string
}

// pinsName is the synthetic record whose constrains carry the pins: a
// constraint binds a package only if it is installed, so a pinned package
// that nothing needs any more is dropped, as a fresh solve would. Its "__"
// prefix keeps it out of lock entries (lock.FromRecords) and it comes from
// no channel, so channel priority does not apply to it.
const pinsName = "__envkit_lock_pins"

// Solve returns the records to install, sorted by name:
//
//  1. A solve without pins gives the fresh solution F (or the reason the
//     specs have none).
//  2. Each package named in Update gets at least its version in F: an
//     update reaches what a fresh lock would have.
//  3. Every other locked package is pinned to its locked record (name,
//     version, build). Pins F agrees with are kept: F satisfies all of
//     them together with step 2. The others are added back greedily in
//     name order, a group at a time, halving a group that admits no
//     solution; after each solution found, the open pins it agrees with
//     join without a solve. A pin is released only when, with the pins
//     kept so far, no solution holds it.
//
// The result is the last solution found, which the solver preferred
// under a subset of the pins kept and which satisfies all of them.
func Solve(u Universe, req Request, opts solve.Options) ([]*repodata.Record, error) {
	fresh, _, err := solve.Solve(u.Index(), req.Specs, opts)
	if err != nil {
		return nil, err
	}
	var base []string // targets and kept pins
	update := map[string]bool{}
	for _, name := range req.Update {
		update[name] = true
		if r := find(fresh, name); r != nil {
			base = append(base, name+" >="+r.Version)
		}
	}
	locked := slices.Clone(req.Locked)
	slices.SortFunc(locked, func(a, b repodata.Record) int { return strings.Compare(a.Name, b.Name) })
	var open []*repodata.Record // pins not known to fit yet
	for i, r := range locked {
		if update[r.Name] || strings.HasPrefix(r.Name, "__") {
			continue
		}
		open = append(open, &locked[i])
	}
	// absorb moves the open pins a solution agrees with into base.
	absorb := func(solution []*repodata.Record) {
		open = slices.DeleteFunc(open, func(pin *repodata.Record) bool {
			if r := find(solution, pin.Name); r == nil || (r.Version == pin.Version && r.Build == pin.Build) {
				base = append(base, PinSpec(pin))
				return true
			}
			return false
		})
	}
	attempt := func(pins []*repodata.Record) []*repodata.Record {
		constrains := slices.Clone(base)
		for _, p := range pins {
			constrains = append(constrains, PinSpec(p))
		}
		rec := []repodata.Record{{Name: pinsName, Version: "0", Build: "0", Constrains: constrains}}
		recs, _, err := solve.Solve(u.Index(rec), append(slices.Clone(req.Specs), pinsName), opts)
		if err != nil {
			return nil
		}
		return recs
	}
	best := fresh
	absorb(fresh)
	var add func(group []*repodata.Record)
	add = func(group []*repodata.Record) {
		group = slices.DeleteFunc(slices.Clone(group), func(p *repodata.Record) bool { return !slices.Contains(open, p) })
		if len(group) == 0 {
			return
		}
		if recs := attempt(group); recs != nil {
			best = recs
			absorb(recs)
			return
		}
		if len(group) > 1 {
			add(group[:len(group)/2])
			add(group[len(group)/2:])
		}
	}
	add(open)
	// best satisfies every pin in base: the pins absorbed after it were
	// taken because it agrees with them.
	return slices.DeleteFunc(best, func(r *repodata.Record) bool { return r.Name == pinsName }), nil
}

// find returns the record named name in a solution (sorted by name).
func find(solution []*repodata.Record, name string) *repodata.Record {
	i, ok := slices.BinarySearchFunc(solution, name, func(r *repodata.Record, n string) int { return strings.Compare(r.Name, n) })
	if !ok {
		return nil
	}
	return solution[i]
}

// PinSpec is the MatchSpec that holds a package at a record's version and
// build. Conda's "==" equates 1.0 with 1.0.0; a channel holding both under
// one build string is the only case where a pin admits another record.
func PinSpec(r *repodata.Record) string {
	return r.Name + " ==" + r.Version + " " + r.Build
}

// Outdated names the packages a changed definition asks to move: specs
// naming a package that is not locked, or whose locked record the spec no
// longer admits. Specs that do not parse are reported by the solve.
func Outdated(specs []string, locked []repodata.Record) []string {
	byName := map[string]*repodata.Record{}
	for i := range locked {
		byName[locked[i].Name] = &locked[i]
	}
	var out []string
	for _, s := range specs {
		ms, err := matchspec.Parse(s)
		if err != nil || ms.Name == "" {
			continue
		}
		if r, ok := byName[ms.Name]; !ok || !ms.Matches(r) {
			if !slices.Contains(out, ms.Name) {
				out = append(out, ms.Name)
			}
		}
	}
	slices.Sort(out)
	return out
}
