// Package gateway loads from conda channels the records a solve can
// reach, and no others: the requested names, then the names their
// records depend on, until nothing new comes up (rattler's "gateway").
// A channel subdir with CEP 16 shards is read one shard per name, in
// batches as the names come up; one without is read from its
// repodata.json (.zst), in two passes: names and depends of every
// record, then only the reachable records in full. Either way a solve
// of a few dozen packages against a channel of half a million records
// holds a few thousand of them.
//
// Leaving out the records nothing reaches cannot change a solution: the
// solver only ever looks up the names of requested specs and of the
// depends of records it looked up (constrains bind only installed
// names, and an unreachable name is never installed).
package gateway

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/envkit/envkit/internal/conda/channel"
	"github.com/envkit/envkit/internal/conda/fetch"
	"github.com/envkit/envkit/internal/conda/matchspec"
	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/envkit/envkit/internal/conda/shards"
)

// Gateway reads channels for solves. The zero value reads without a
// cache through netfetch.Default. Its counters add up over its loads.
type Gateway struct {
	// Repodata reads monolithic repodata.json; a zero Client when nil.
	Repodata *fetch.Client
	// Shards reads CEP 16 sharded repodata; a zero Fetcher when nil.
	Shards *shards.Fetcher
	// Transport, when set, reads the channels instead of Repodata and
	// Shards: a BuildKit frontend fetches them as LLB sources.
	Transport Transport

	once sync.Once
}

// Transport reads a channel subdir's bytes for a Gateway.
type Transport interface {
	// OpenShards reads a subdir's shard index; nil and no error when
	// the channel has none.
	OpenShards(ctx context.Context, ch channel.Channel, subdir string) (*shards.Subdir, error)
	// RepodataJSON reads a subdir's repodata.json (from its .zst where
	// there is one); ok is false when the channel lacks the subdir and
	// it is not noarch. u names what was read, for errors.
	RepodataJSON(ctx context.Context, ch channel.Channel, subdir string) (u string, data []byte, ok bool, err error)
	// ShardRecords reads the records of names from a sharded subdir.
	ShardRecords(ctx context.Context, sd *shards.Subdir, names []string) (map[string][]repodata.Record, error)
}

// clients is the Transport of Repodata and Shards: envkit's HTTP and
// file:// clients, with their caches.
type clients struct{ g *Gateway }

func (c clients) OpenShards(ctx context.Context, ch channel.Channel, subdir string) (*shards.Subdir, error) {
	return c.g.Shards.Open(ctx, ch, subdir)
}

func (c clients) RepodataJSON(ctx context.Context, ch channel.Channel, subdir string) (string, []byte, bool, error) {
	return c.g.Repodata.RepodataJSON(ctx, ch, subdir)
}

func (c clients) ShardRecords(ctx context.Context, sd *shards.Subdir, names []string) (map[string][]repodata.Record, error) {
	return c.g.Shards.Records(ctx, sd, names)
}

// Request is one platform's solve.
type Request struct {
	// Channels are resolved channels, highest priority first.
	Channels []channel.Channel
	// Platform is the subdir solved for; noarch is always read too.
	Platform string
	// Specs are the requested MatchSpecs: their names are where the
	// closure starts. A spec that does not parse adds nothing (the solve
	// reports it).
	Specs []string
	// Virtual are the platform's virtual packages, added to the result
	// as they are ("__" names are never fetched).
	Virtual []repodata.Record
}

// Result is what a solve chooses from, in the shape of
// repodata.NewIndex's arguments (and relock.Universe's fields).
type Result struct {
	// Channels are the canonical channel URLs, highest priority first.
	Channels []string
	// Records holds one slice per channel and subdir (platform, then
	// noarch) in priority order, then the virtual packages.
	Records [][]repodata.Record
	Stats   Stats
}

// Stats tell what a load read, for --verbose and benchmarks.
type Stats struct {
	// Sharded and Monolithic count the subdirs read each way (a
	// platform subdir a channel lacks counts as monolithic and empty).
	Sharded, Monolithic int
	// Names are the package names reached, Records the records kept.
	Names, Records int
	// Requests and Bytes are the downloads made (indexes, shards,
	// repodata), bytes as transferred; cache hits are not counted.
	Requests, Bytes int64
}

// String is the one-line summary --verbose prints.
func (s Stats) String() string {
	return fmt.Sprintf("%d subdirs sharded, %d monolithic; %d names, %d records; %d requests, %s transferred",
		s.Sharded, s.Monolithic, s.Names, s.Records, s.Requests, byteSize(s.Bytes))
}

func byteSize(n int64) string {
	switch {
	case n >= 10<<20:
		return fmt.Sprintf("%d MB", n/1e6)
	case n >= 10<<10:
		return fmt.Sprintf("%d kB", n/1e3)
	}
	return fmt.Sprintf("%d B", n)
}

func (g *Gateway) init() {
	g.once.Do(func() {
		if g.Repodata == nil {
			g.Repodata = &fetch.Client{}
		}
		if g.Shards == nil {
			g.Shards = &shards.Fetcher{}
		}
		if g.Transport == nil {
			g.Transport = clients{g}
		}
	})
}

func (g *Gateway) transferred() (requests, bytes int64) {
	r1, b1 := g.Repodata.Transferred()
	r2, b2 := g.Shards.Transferred()
	return r1 + r2, b1 + b2
}

// Load reads the records req's solve can reach. The subdirs are opened
// concurrently; errors name the channel (and package, for a shard), the
// first in channel order is reported.
func (g *Gateway) Load(ctx context.Context, req Request) (*Result, error) {
	g.init()
	requests, bytes := g.transferred()
	subdirs := []string{req.Platform, "noarch"}
	if req.Platform == "noarch" {
		subdirs = subdirs[:1]
	}
	srcs := make([]*source, 0, len(req.Channels)*len(subdirs))
	for _, ch := range req.Channels {
		for _, sd := range subdirs {
			srcs = append(srcs, &source{ch: ch, subdir: sd})
		}
	}
	if err := each(srcs, func(s *source) error { return g.open(ctx, s) }); err != nil {
		return nil, err
	}
	var roots []string
	for _, spec := range req.Specs {
		if ms, err := matchspec.Parse(spec); err == nil {
			roots = append(roots, ms.Name)
		}
	}
	names, err := Closure(roots, func(batch []string) ([]string, error) {
		if err := each(srcs, func(s *source) error { return g.fetch(ctx, s, batch) }); err != nil {
			return nil, err
		}
		var deps []string
		for _, s := range srcs {
			for _, name := range batch {
				deps = append(deps, s.depends(name)...)
			}
		}
		return deps, nil
	})
	if err != nil {
		return nil, err
	}
	res := &Result{}
	for _, ch := range req.Channels {
		res.Channels = append(res.Channels, ch.URL)
	}
	for _, s := range srcs {
		recs, err := s.records(names)
		if err != nil {
			return nil, err
		}
		res.Records = append(res.Records, recs)
		res.Stats.Records += len(recs)
		if s.sharded != nil {
			res.Stats.Sharded++
		} else {
			res.Stats.Monolithic++
		}
	}
	res.Records = append(res.Records, req.Virtual)
	res.Stats.Names = len(names)
	r, b := g.transferred()
	res.Stats.Requests, res.Stats.Bytes = r-requests, b-bytes
	return res, nil
}

// Closure returns the names reachable from roots, sorted: expand is
// given each batch of names met for the first time and returns the
// depends specs of their records (a batch being one step further from
// the roots, a fetcher can fetch it all at once). Virtual packages
// ("__" names) and name globs are never expanded.
func Closure(roots []string, expand func(batch []string) ([]string, error)) ([]string, error) {
	seen := map[string]bool{}
	var batch []string
	add := func(name string) {
		if name == "" || seen[name] || strings.HasPrefix(name, "__") || strings.ContainsAny(name, "*?[") {
			return
		}
		seen[name] = true
		batch = append(batch, name)
	}
	for _, r := range roots {
		add(r)
	}
	names := map[string]string{} // depends spec → its name
	for len(batch) > 0 {
		deps, err := expand(batch)
		if err != nil {
			return nil, err
		}
		batch = nil
		for _, d := range deps {
			name, ok := names[d]
			if !ok {
				name = DependencyName(d)
				names[d] = name
			}
			add(name)
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	slices.Sort(out)
	return out, nil
}

// DependencyName is the package name a depends spec makes the solver
// look up: the MatchSpec's name, or for a spec that does not parse the
// name the solver's explanation looks up (its first word).
func DependencyName(spec string) string {
	if ms, err := matchspec.Parse(spec); err == nil {
		return ms.Name
	}
	if f := strings.Fields(spec); len(f) > 0 {
		return f[0]
	}
	return spec
}

// each runs f on every source concurrently and returns the first error
// in the sources' order.
func each(srcs []*source, f func(*source) error) error {
	errs := make([]error, len(srcs))
	var wg sync.WaitGroup
	for i, s := range srcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f(s)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
