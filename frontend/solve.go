package frontend

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync/atomic"

	"github.com/moby/buildkit/client/llb"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"

	"github.com/envkit/envkit/internal/buildplan"
	"github.com/envkit/envkit/internal/conda/channel"
	"github.com/envkit/envkit/internal/conda/fetch"
	"github.com/envkit/envkit/internal/conda/gateway"
	"github.com/envkit/envkit/internal/conda/lock"
	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/envkit/envkit/internal/conda/shards"
	"github.com/envkit/envkit/internal/conda/solve"
	"github.com/envkit/envkit/internal/conda/virtual"
	"github.com/envkit/envkit/internal/platform"
	"github.com/envkit/envkit/internal/spec"
)

// solveInFrontend solves the conda part when the context has no lock:
// every channel's repodata is an LLB HTTP source read back through the
// gateway, so BuildKit's cache and proxies apply, then envkit's solver
// picks the packages for each target platform.
func (b *build) solveInFrontend(ctx context.Context, def *spec.Definition, in lock.Inputs) (*buildplan.Locked, error) {
	cfg := b.opts.Channels
	packages := map[string][]*repodata.Record{}
	for _, p := range b.targets() {
		subdir, err := platform.Subdir(p)
		if err != nil {
			return nil, err
		}
		if _, done := packages[subdir]; done {
			continue
		}
		chans, err := cfg.ResolveAll(in.Channels, subdir)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", def.Conda.Pos, err)
		}
		ix, err := b.fetchIndex(ctx, def, chans, subdir, in.Specs)
		if err != nil {
			return nil, err
		}
		recs, _, err := solve.Solve(ix, in.Specs, solve.Options{Platform: subdir})
		if err != nil {
			return nil, fmt.Errorf("%s: %s (%s): %w", def.Conda.Pos, b.filename, subdir, err)
		}
		// The records go through the lock's form, so that a build from
		// this solve and one from the lock envkit lock writes for it link
		// the same records and share every layer.
		entries := &lock.Lock{Packages: lock.FromRecords(subdir, recs)}
		records, err := entries.Records(subdir)
		if err != nil {
			return nil, err
		}
		pkgs := make([]*repodata.Record, len(records))
		for i := range records {
			pkgs[i] = &records[i]
		}
		packages[subdir] = pkgs
	}
	return buildplan.NewLocked(packages), nil
}

// fetchIndex reads what a solve of specs can reach in every channel's
// platform and noarch subdirs, in priority order, through BuildKit, plus
// the virtual packages (from CONDA_OVERRIDE_* build arguments): the
// CLI's gateway (CEP 16 shards where a channel has them, else
// repodata.json.zst, else repodata.json, in two passes), with the
// frontend's transport (channelReader).
func (b *build) fetchIndex(ctx context.Context, def *spec.Definition, chans []channel.Channel, subdir string, specs []string) (*repodata.Index, error) {
	vp, err := virtual.Packages(subdir, b.opts.Lookup)
	if err != nil {
		return nil, fmt.Errorf("build arguments: %w", err)
	}
	g := &gateway.Gateway{Transport: &channelReader{b: b, def: def}}
	res, err := g.Load(ctx, gateway.Request{Channels: chans, Platform: subdir, Specs: specs, Virtual: vp})
	if err != nil {
		return nil, err
	}
	return repodata.NewIndex(res.Channels, res.Records...), nil
}

// channelReader is the frontend's gateway.Transport: every file is an LLB
// HTTP source read back through the gateway (a file:// channel's, a read
// of its named context), so BuildKit's cache, proxies and cache exporters
// apply.
type channelReader struct {
	b   *build
	def *spec.Definition
	// batch numbers the shard fetches in the progress.
	batch atomic.Int32
}

// OpenShards reads an http(s) channel subdir's shard index (openShards);
// a file:// channel is read from its repodata.json.
func (r *channelReader) OpenShards(ctx context.Context, ch channel.Channel, subdir string) (*shards.Subdir, error) {
	if !strings.HasPrefix(ch.Location, "http://") && !strings.HasPrefix(ch.Location, "https://") {
		return nil, nil
	}
	return r.b.openShards(ctx, ch, subdir)
}

// ShardRecords fetches the shards of names in one solve (fetchShards).
func (r *channelReader) ShardRecords(ctx context.Context, sd *shards.Subdir, names []string) (map[string][]repodata.Record, error) {
	var reqs []shardRequest
	for _, name := range names {
		if _, ok := sd.Index.Shards[name]; ok {
			reqs = append(reqs, shardRequest{sd: sd, name: name})
		}
	}
	recs, err := r.b.fetchShards(ctx, int(r.batch.Add(1)), reqs)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]repodata.Record, len(reqs))
	for i, req := range reqs {
		out[req.name] = recs[i]
	}
	return out, nil
}

// RepodataJSON reads one channel subdir's repodata.json.zst, else its
// repodata.json, as an HTTP source, or from the named context of a
// file:// channel. A channel without the platform subdir (404) has no
// packages for it, as in conda; noarch must exist.
func (r *channelReader) RepodataJSON(ctx context.Context, ch channel.Channel, subdir string) (string, []byte, bool, error) {
	u := ch.Location + "/" + subdir + "/repodata.json"
	if strings.HasPrefix(u, "file:") {
		return r.b.localRepodata(ctx, r.def, ch, subdir)
	}
	if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		return "", nil, false, fmt.Errorf("channel %s: %s cannot be fetched inside BuildKit (http, https and file:// only)", ch.Name, u)
	}
	name := "[conda] fetch repodata " + ch.Name + "/" + subdir
	zst, err := r.b.fetchHTTP(ctx, u+".zst", name+" (.zst)", "repodata.json.zst")
	var data []byte
	switch {
	case err == nil:
		data, err = fetch.DecompressRepodata(u+".zst", zst)
		u += ".zst"
	case notFound(err):
		data, err = r.b.fetchHTTP(ctx, u, name, "repodata.json")
	}
	if err != nil {
		if subdir != "noarch" && notFound(err) {
			return u, nil, false, nil
		}
		return "", nil, false, fmt.Errorf("channel %s: %w (without a %s the frontend reads the channels through BuildKit: lock where they are reachable, or mirror them with the build argument %s)", ch.Name, err, buildplan.LockFile, channel.EnvMirrors)
	}
	return u, data, true, nil
}

// maxChannelFile bounds a channel file read back from an HTTP source
// (conda-forge's linux-64 repodata.json is about 250 MB).
const maxChannelFile = fetch.MaxRepodata

// fetchHTTP solves an HTTP source for u, evaluated now (a lazy solve
// would only fail at the read, and the status decides what a failure
// means), and reads its file back whole.
func (b *build) fetchHTTP(ctx context.Context, u, name, filename string) ([]byte, error) {
	st := llb.HTTP(u, llb.Filename(filename), llb.WithCustomName(name), b.opts.Auth.HTTP(u))
	def, err := st.Marshal(ctx)
	if err != nil {
		return nil, err
	}
	res, err := b.c.Solve(ctx, gwclient.SolveRequest{Definition: def.ToPB(), CacheImports: b.bc.CacheImports, Evaluate: true})
	if err != nil {
		return nil, explainAuth(err, def, b.opts.Auth)
	}
	ref, err := res.SingleRef()
	if err != nil {
		return nil, err
	}
	data, err := readWhole(ctx, ref, filename, maxChannelFile)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", u, err)
	}
	return data, nil
}

// notFound says whether an HTTP source failed with 404: BuildKit's
// message is "invalid response status 404".
func notFound(err error) bool {
	return err != nil && strings.Contains(err.Error(), "404")
}

// maxRead is what one gateway read asks for: BuildKit refuses a read
// larger than its gRPC message limit (16 MiB, and less on older
// daemons), so a larger file is read in ranges.
const maxRead = 4 << 20

// readWhole reads a file of ref in ranges of maxRead, at most limit
// bytes in all, allocated once at the file's size.
func readWhole(ctx context.Context, ref gwclient.Reference, filename string, limit int64) ([]byte, error) {
	st, err := ref.StatFile(ctx, gwclient.StatRequest{Path: filename})
	if err != nil {
		return nil, err
	}
	size := st.Size
	if size > limit {
		return nil, fmt.Errorf("%s is %d bytes, over the limit of %d", filename, size, limit)
	}
	if size <= maxRead {
		return ref.ReadFile(ctx, gwclient.ReadRequest{Filename: filename})
	}
	out := make([]byte, 0, size)
	for int64(len(out)) < size {
		n := min(int64(maxRead), size-int64(len(out)))
		chunk, err := ref.ReadFile(ctx, gwclient.ReadRequest{Filename: filename, Range: &gwclient.FileRange{Offset: len(out), Length: int(n)}})
		if err != nil {
			return nil, err
		}
		if len(chunk) == 0 {
			return nil, fmt.Errorf("%s: the read stopped at %d of %d bytes", filename, len(out), size)
		}
		out = append(out, chunk...)
	}
	return out, nil
}

// localRepodata reads a file:// channel subdir's repodata.json (else its
// .zst, as envkit lock does) from the channel's named context.
func (b *build) localRepodata(ctx context.Context, def *spec.Definition, ch channel.Channel, subdir string) (string, []byte, bool, error) {
	ref, err := b.channelRepodata(ctx, def, ch.Location)
	if err != nil {
		return "", nil, false, err
	}
	u := ch.Location + "/" + subdir + "/repodata.json"
	data, err := readWhole(ctx, ref, subdir+"/repodata.json", maxChannelFile)
	if missing(err) {
		var zst []byte
		zst, err = readWhole(ctx, ref, subdir+"/repodata.json.zst", maxChannelFile)
		if err == nil {
			data, err = fetch.DecompressRepodata(u+".zst", zst)
		}
	}
	switch {
	case missing(err) && subdir != "noarch":
		return u, nil, false, nil
	case missing(err):
		return "", nil, false, fmt.Errorf("channel %s: %s: no such file: not a conda channel (CEP 26 requires noarch/repodata.json)", ch.Name, u)
	case err != nil:
		return "", nil, false, fmt.Errorf("channel %s: %s: %w", ch.Name, u, err)
	}
	return u, data, true, nil
}

// missing says whether a gateway read failed because the file is not there.
func missing(err error) bool {
	return err != nil && errors.Is(notExist(err), fs.ErrNotExist)
}
