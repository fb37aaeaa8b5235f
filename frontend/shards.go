package frontend

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/moby/buildkit/client/llb"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	digest "github.com/opencontainers/go-digest"

	"github.com/envkit/envkit/internal/conda/channel"
	"github.com/envkit/envkit/internal/conda/matchspec"
	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/envkit/envkit/internal/conda/shards"
)

// shardedSubdir is a channel subdir read through its CEP 16 shard index:
// only the names a solve reaches are fetched, each shard an HTTP source
// pinned by its sha256, so BuildKit keeps it for good and every build on
// the builder (and a registry cache) shares it.
type shardedSubdir struct {
	ch     channel.Channel
	subdir string
	index  *shards.Index
	base   *url.URL // where shards live, ending in "/"
}

// openShards fetches a channel subdir's shard index; nil when the channel
// has none (the fetch fails with 404), and the caller reads repodata.json.
func (b *build) openShards(ctx context.Context, ch channel.Channel, subdir string) (*shardedSubdir, error) {
	u := ch.Location + "/" + subdir + "/" + shards.IndexFile
	data, err := b.fetchHTTP(ctx, u, "[conda] look for repodata shards "+ch.Name+"/"+subdir, shards.IndexFile)
	if notFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("channel %s: %w", ch.Name, err)
	}
	ix, err := shards.DecodeIndex(data)
	if err != nil {
		return nil, fmt.Errorf("channel %s, subdir %s: %s: %w", ch.Name, subdir, u, err)
	}
	index, err := url.Parse(u)
	if err != nil {
		return nil, err
	}
	rel := ix.Info.ShardsBaseURL
	if rel == "" {
		rel = "./"
	}
	ref, err := url.Parse(rel)
	if err != nil {
		return nil, fmt.Errorf("channel %s, subdir %s: info.shards_base_url %q: %w", ch.Name, subdir, rel, err)
	}
	base := index.ResolveReference(ref)
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
	}
	return &shardedSubdir{ch: ch, subdir: subdir, index: ix, base: base}, nil
}

// shardRequest is one name's shard in one sharded subdir.
type shardRequest struct {
	sd   *shardedSubdir
	name string
	sum  shards.Sum
}

// fetchShards fetches a batch of shards in one solve: each an HTTP source
// checked against its sha256, merged into one directory (one progress
// group for the batch), read back and decoded. It returns the placed
// records by request.
func (b *build) fetchShards(ctx context.Context, batch int, reqs []shardRequest) ([][]repodata.Record, error) {
	if len(reqs) == 0 {
		return nil, nil
	}
	group := llb.ProgressGroup(fmt.Sprintf("envkit-shards-%d", batch), fmt.Sprintf("[conda] fetch %d repodata shards (batch %d)", len(reqs), batch), false)
	var states []llb.State
	seen := map[shards.Sum]bool{}
	for _, r := range reqs {
		if seen[r.sum] {
			continue
		}
		seen[r.sum] = true
		u := r.sd.base.JoinPath(r.sum.File()).String()
		states = append(states, llb.HTTP(u, llb.Checksum(digest.NewDigestFromEncoded(digest.SHA256, r.sum.String())),
			llb.Filename(r.sum.File()), llb.WithCustomName("[conda] shard "+r.sd.ch.Name+"/"+r.sd.subdir+" "+r.name), group))
	}
	st := states[0]
	if len(states) > 1 {
		st = llb.Merge(states, group, llb.WithCustomName(fmt.Sprintf("[conda] %d repodata shards", len(states))))
	}
	def, err := st.Marshal(ctx)
	if err != nil {
		return nil, err
	}
	res, err := b.c.Solve(ctx, gwclient.SolveRequest{Definition: def.ToPB(), CacheImports: b.bc.CacheImports, Evaluate: true})
	if err != nil {
		return nil, nameFailedStep(err, def)
	}
	ref, err := res.SingleRef()
	if err != nil {
		return nil, err
	}
	out := make([][]repodata.Record, len(reqs))
	for i, r := range reqs {
		where := fmt.Sprintf("channel %s, subdir %s, package %s", r.sd.ch.Name, r.sd.subdir, r.name)
		data, err := readWhole(ctx, ref, r.sum.File(), shards.MaxShard)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		shard, err := shards.DecodeShard(data, r.sum)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		info := repodata.Info{Subdir: r.sd.index.Info.Subdir, BaseURL: r.sd.index.Info.BaseURL}
		if info.Subdir == "" {
			info.Subdir = r.sd.subdir
		}
		if out[i], err = repodata.Place(r.sd.ch.URL, r.sd.ch.Location, info, shard.Packages, shard.Conda, shard.Removed); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
	}
	return out, nil
}

// reachable collects the records a solve of roots can reach: the
// monolithic subdirs' records are all there; the sharded subdirs' are
// fetched a batch per round, for the names the records found so far
// depend on (constrains name packages only relevant when something
// depends on them), until no new name appears. Virtual packages (__*)
// come from the build, not the channels.
func (b *build) reachable(ctx context.Context, roots []string, sharded []*shardedSubdir, monolithic []repodata.Record) (map[*shardedSubdir][]repodata.Record, error) {
	out := map[*shardedSubdir][]repodata.Record{}
	if len(sharded) == 0 {
		return out, nil
	}
	byName := map[string][]*repodata.Record{}
	for i := range monolithic {
		byName[monolithic[i].Name] = append(byName[monolithic[i].Name], &monolithic[i])
	}
	seen := map[string]bool{}
	for _, r := range roots {
		seen[r] = true
	}
	frontier := roots
	for batch := 1; len(frontier) > 0; batch++ {
		var next []string
		add := func(deps []string) {
			for _, d := range deps {
				if n := dependencyName(d); n != "" && !seen[n] && !strings.HasPrefix(n, "__") {
					seen[n] = true
					next = append(next, n)
				}
			}
		}
		var reqs []shardRequest
		for _, name := range frontier {
			for _, r := range byName[name] {
				add(r.Depends)
			}
			for _, sd := range sharded {
				if sum, ok := sd.index.Shards[name]; ok {
					reqs = append(reqs, shardRequest{sd: sd, name: name, sum: sum})
				}
			}
		}
		recs, err := b.fetchShards(ctx, batch, reqs)
		if err != nil {
			return nil, err
		}
		for i, r := range reqs {
			out[r.sd] = append(out[r.sd], recs[i]...)
			for _, rec := range recs[i] {
				add(rec.Depends)
			}
		}
		sort.Strings(next)
		frontier = next
	}
	return out, nil
}

// rootNames are the package names of the definition's conda specs, each
// once.
func rootNames(specs []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range specs {
		if n := dependencyName(s); n != "" && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// dependencyName is the package name of a spec ("numpy >=1.26", a
// channel-qualified "conda-forge::numpy"); "" when it does not parse, and
// the solver then reports it.
func dependencyName(spec string) string {
	ms, err := matchspec.Parse(spec)
	if err != nil {
		return ""
	}
	return ms.Name
}
