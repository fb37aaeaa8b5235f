package relock

import (
	"fmt"
	"slices"
	"testing"

	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/envkit/envkit/internal/conda/solve"
	"github.com/envkit/envkit/internal/conda/version"
)

// fuzzUniverse builds a small channel from bytes: up to 6 names with up to
// 3 versions each; each record depends on later names with a version
// bound, and may constrain one. Locking on the records of version 1 only
// and re-solving on all of them plays a channel update.
func fuzzUniverse(data []byte) (before, after Universe, specs []string) {
	next := func() int {
		if len(data) == 0 {
			return 0
		}
		b := data[0]
		data = data[1:]
		return int(b)
	}
	const ch = "https://example.invalid/fuzz"
	names := 2 + next()%5
	var all []repodata.Record
	for n := range names {
		name := fmt.Sprintf("p%d", n)
		for v := 1; v <= 1+next()%3; v++ {
			r := repodata.Record{Name: name, Version: fmt.Sprint(v), Build: "0", Subdir: "noarch", Channel: ch,
				Filename: fmt.Sprintf("%s-%d-0.conda", name, v)}
			for m := n + 1; m < names; m++ {
				switch next() % 4 {
				case 1:
					r.Depends = append(r.Depends, fmt.Sprintf("p%d", m))
				case 2:
					r.Depends = append(r.Depends, fmt.Sprintf("p%d >=%d", m, 1+next()%3))
				case 3:
					r.Depends = append(r.Depends, fmt.Sprintf("p%d <%d", m, 2+next()%2))
				}
			}
			if c := next() % 8; c < names && c != n {
				r.Constrains = append(r.Constrains, fmt.Sprintf("p%d <=%d", c, 1+next()%3))
			}
			all = append(all, r)
		}
	}
	var old []repodata.Record
	for _, r := range all {
		if r.Version == "1" || next()%2 == 0 {
			old = append(old, r)
		}
	}
	for n := range names {
		if next()%2 == 0 {
			specs = append(specs, fmt.Sprintf("p%d", n))
		}
	}
	if len(specs) == 0 {
		specs = []string{"p0"}
	}
	return Universe{Channels: []string{ch}, Records: [][]repodata.Record{old}},
		Universe{Channels: []string{ch}, Records: [][]repodata.Record{all}}, specs
}

// FuzzSolve checks the rule of Solve on random channels: a valid
// environment, updated packages at least at their fresh version when
// installed (an update can drop a package nothing needs any more: the
// first failure the fuzzer found was this checker's), and no released
// pin that fits with the kept ones.
func FuzzSolve(f *testing.F) {
	f.Add([]byte{3, 2, 1, 2, 0, 3, 1, 2, 2, 1, 0, 0, 1, 2, 3, 0, 1, 1, 0, 2}, uint8(1))
	f.Add([]byte{4, 1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 3, 3, 2, 2, 2, 2, 0, 0, 0}, uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, updateMask uint8) {
		before, after, specs := fuzzUniverse(data)
		old, _, err := solve.Solve(before.Index(), specs, opts)
		if err != nil {
			return // nothing to lock
		}
		var locked []repodata.Record
		for _, r := range old {
			locked = append(locked, *r)
		}
		var update []string
		for i, r := range locked {
			if updateMask&(1<<(i%8)) != 0 {
				update = append(update, r.Name)
			}
		}
		fresh, _, freshErr := solve.Solve(after.Index(), specs, opts)
		got, err := Solve(after, Request{Specs: specs, Locked: locked, Update: update}, opts)
		if (err == nil) != (freshErr == nil) {
			t.Fatalf("Solve: %v, fresh solve: %v", err, freshErr)
		}
		if err != nil {
			return
		}
		checkSolution(t, got, specs)
		var kept, released []string
		for _, name := range update {
			if f, r := find(fresh, name), find(got, name); f != nil && r != nil && version.MustParse(r.Version).Less(version.MustParse(f.Version)) {
				t.Errorf("%s below its fresh version %s", name, f.Version)
			}
			if f := find(fresh, name); f != nil {
				kept = append(kept, name+" >="+f.Version)
			}
		}
		for _, l := range locked {
			if slices.Contains(update, l.Name) {
				continue
			}
			if r := find(got, l.Name); r == nil || (r.Version == l.Version && r.Build == l.Build) {
				kept = append(kept, PinSpec(&l))
			} else {
				released = append(released, PinSpec(&l))
			}
		}
		for _, pin := range released {
			rec := []repodata.Record{{Name: pinsName, Version: "0", Build: "0", Constrains: append(slices.Clone(kept), pin)}}
			if _, _, err := solve.Solve(after.Index(rec), append(slices.Clone(specs), pinsName), opts); err == nil {
				t.Errorf("pin %s released but fits with %v", pin, kept)
			}
		}
	})
}
