package frontend

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"

	"github.com/moby/buildkit/client/llb"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	"golang.org/x/sync/errgroup"

	"github.com/envkit/envkit/internal/buildplan"
	"github.com/envkit/envkit/internal/conda/channel"
	"github.com/envkit/envkit/internal/conda/fetch"
	"github.com/envkit/envkit/internal/conda/lock"
	"github.com/envkit/envkit/internal/conda/repodata"
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
		ix, err := b.fetchIndex(ctx, def, chans, subdir)
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

// fetchIndex reads the platform and noarch repodata of every channel, in
// priority order, through BuildKit, plus the virtual packages (from
// CONDA_OVERRIDE_* build arguments).
func (b *build) fetchIndex(ctx context.Context, def *spec.Definition, chans []channel.Channel, subdir string) (*repodata.Index, error) {
	subdirs := []string{subdir, "noarch"}
	records := make([][]repodata.Record, len(chans)*len(subdirs))
	order := make([]string, len(chans))
	var mu sync.Mutex
	eg, ctx := errgroup.WithContext(ctx)
	for i, ch := range chans {
		order[i] = ch.URL
		for j, sd := range subdirs {
			eg.Go(func() error {
				rd, err := b.fetchRepodata(ctx, def, ch, sd)
				if err != nil {
					return err
				}
				mu.Lock()
				records[i*len(subdirs)+j] = rd.Records
				mu.Unlock()
				return nil
			})
		}
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	vp, err := virtual.Packages(subdir, b.opts.Lookup)
	if err != nil {
		return nil, fmt.Errorf("build arguments: %w", err)
	}
	return repodata.NewIndex(order, append(records, vp)...), nil
}

// fetchRepodata reads one channel subdir's repodata.json as an HTTP
// source, or from the named context of a file:// channel. A channel
// without the platform subdir (404) has no packages for it, as in conda;
// noarch must exist.
func (b *build) fetchRepodata(ctx context.Context, def *spec.Definition, ch channel.Channel, subdir string) (*repodata.Repodata, error) {
	u := ch.Location + "/" + subdir + "/repodata.json"
	if strings.HasPrefix(u, "file:") {
		return b.localRepodata(ctx, def, ch, subdir)
	}
	if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		return nil, fmt.Errorf("channel %s: %s cannot be fetched inside BuildKit (http, https and file:// only)", ch.Name, u)
	}
	st := llb.HTTP(u, llb.Filename("repodata.json"), llb.WithCustomName("[conda] fetch repodata "+ch.Name+"/"+subdir))
	fetch, err := st.Marshal(ctx)
	if err != nil {
		return nil, err
	}
	// Evaluate now: a lazy solve would only fail at the read, and the
	// status of the fetch decides what a failure means.
	res, err := b.c.Solve(ctx, gwclient.SolveRequest{Definition: fetch.ToPB(), CacheImports: b.bc.CacheImports, Evaluate: true})
	if err != nil {
		if subdir != "noarch" && strings.Contains(err.Error(), "404") {
			return &repodata.Repodata{Info: repodata.Info{Subdir: subdir}}, nil
		}
		return nil, fmt.Errorf("channel %s: %w (without a %s the frontend reads the channels through BuildKit: lock where they are reachable, or mirror them with the build argument %s)", ch.Name, err, buildplan.LockFile, channel.EnvMirrors)
	}
	ref, err := res.SingleRef()
	if err != nil {
		return nil, err
	}
	data, err := ref.ReadFile(ctx, gwclient.ReadRequest{Filename: "repodata.json"})
	if err != nil {
		return nil, fmt.Errorf("channel %s: %s: %w", ch.Name, u, err)
	}
	rd, err := repodata.ParseMirrored(ch.URL, ch.Location, subdir, data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", u, err)
	}
	return rd, nil
}

// localRepodata reads a file:// channel subdir's repodata.json (else its
// .zst, as envkit lock does) from the channel's named context.
func (b *build) localRepodata(ctx context.Context, def *spec.Definition, ch channel.Channel, subdir string) (*repodata.Repodata, error) {
	ref, err := b.channelRepodata(ctx, def, ch.Location)
	if err != nil {
		return nil, err
	}
	u := ch.Location + "/" + subdir + "/repodata.json"
	data, err := ref.ReadFile(ctx, gwclient.ReadRequest{Filename: subdir + "/repodata.json"})
	if missing(err) {
		var zst []byte
		zst, err = ref.ReadFile(ctx, gwclient.ReadRequest{Filename: subdir + "/repodata.json.zst"})
		if err == nil {
			data, err = fetch.DecompressRepodata(u+".zst", zst)
		}
	}
	switch {
	case missing(err) && subdir != "noarch":
		return &repodata.Repodata{Info: repodata.Info{Subdir: subdir}}, nil
	case missing(err):
		return nil, fmt.Errorf("channel %s: %s: no such file: not a conda channel (CEP 26 requires noarch/repodata.json)", ch.Name, u)
	case err != nil:
		return nil, fmt.Errorf("channel %s: %s: %w", ch.Name, u, err)
	}
	rd, err := repodata.ParseMirrored(ch.URL, ch.Location, subdir, data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", u, err)
	}
	return rd, nil
}

// missing says whether a gateway read failed because the file is not there.
func missing(err error) bool {
	return err != nil && errors.Is(notExist(err), fs.ErrNotExist)
}
