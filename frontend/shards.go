package frontend

import (
	"context"
	"fmt"

	"github.com/moby/buildkit/client/llb"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	digest "github.com/opencontainers/go-digest"

	"github.com/envkit/envkit/internal/conda/channel"
	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/envkit/envkit/internal/conda/shards"
)

// openShards fetches a channel subdir's CEP 16 shard index; nil when the
// channel has none (the fetch fails with 404), and the caller reads
// repodata.json. Only the shards of the names a solve reaches are
// fetched then (the gateway's closure, fetchShards), each an HTTP source
// pinned by its sha256, so BuildKit keeps it for good and every build on
// the builder (and a registry cache) shares it.
func (b *build) openShards(ctx context.Context, ch channel.Channel, subdir string) (*shards.Subdir, error) {
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
	return shards.NewSubdir(ch, subdir, u, ix)
}

// shardRequest is one name's shard in one sharded subdir.
type shardRequest struct {
	sd   *shards.Subdir
	name string
}

// fetchShards fetches a batch of shards in one solve: each an HTTP source
// checked against its sha256, merged into one directory (one progress
// group for the batch), read back, checked and decoded. It returns the
// placed records by request.
func (b *build) fetchShards(ctx context.Context, batch int, reqs []shardRequest) ([][]repodata.Record, error) {
	if len(reqs) == 0 {
		return nil, nil
	}
	what := fmt.Sprintf("%d repodata shards", len(reqs))
	if len(reqs) == 1 {
		what = "1 repodata shard"
	}
	group := llb.ProgressGroup(fmt.Sprintf("envkit-shards-%d", batch), fmt.Sprintf("[conda] fetch %s (batch %d)", what, batch), false)
	var states []llb.State
	seen := map[shards.Sum]bool{}
	for _, r := range reqs {
		sum := r.sd.Index.Shards[r.name]
		if seen[sum] {
			continue
		}
		seen[sum] = true
		states = append(states, llb.HTTP(r.sd.ShardURL(sum), llb.Checksum(digest.NewDigestFromEncoded(digest.SHA256, sum.String())),
			llb.Filename(sum.File()), llb.WithCustomName("[conda] shard "+r.sd.Channel.Name+"/"+r.sd.Name+" "+r.name), group, b.opts.Auth.HTTP(r.sd.ShardURL(sum))))
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
		return nil, nameFailedStep(explainAuth(err, def, b.opts.Auth), def)
	}
	ref, err := res.SingleRef()
	if err != nil {
		return nil, err
	}
	out := make([][]repodata.Record, len(reqs))
	for i, r := range reqs {
		file := r.sd.Index.Shards[r.name].File()
		data, err := readWhole(ctx, ref, file, shards.MaxShard)
		if err != nil {
			return nil, fmt.Errorf("channel %s, subdir %s, package %s: %w", r.sd.Channel.Name, r.sd.Name, r.name, err)
		}
		if out[i], err = r.sd.Records(r.name, data); err != nil {
			return nil, err
		}
	}
	return out, nil
}
