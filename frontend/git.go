package frontend

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"

	"github.com/moby/buildkit/client/llb"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"

	"github.com/envkit/envkit/internal/buildplan"
	"github.com/envkit/envkit/internal/conda/lock"
	"github.com/envkit/envkit/internal/gitctx"
)

// openGit is the definition's spec.GitOpener: it solves BuildKit's git
// source for r (gitState) and reads the tree through the gateway, so the
// definition's Dockerfile and the files it copies are read, and hashed,
// from what the build uses.
func (b *build) openGit(r gitctx.Ref) (fs.FS, error) {
	ctx := b.fsys.ctx
	st, err := b.gitState(r)
	if err != nil {
		return nil, err
	}
	def, err := st.Marshal(ctx)
	if err != nil {
		return nil, err
	}
	res, err := b.c.Solve(ctx, gwclient.SolveRequest{Definition: def.ToPB(), CacheImports: b.bc.CacheImports})
	if err != nil {
		return nil, fmt.Errorf("git context %s: %w", r, err)
	}
	ref, err := res.SingleRef()
	if err != nil {
		return nil, err
	}
	if ref == nil {
		return nil, fmt.Errorf("git context %s is empty", r)
	}
	return &refFS{ctx: ctx, ref: ref}, nil
}

// gitState is BuildKit's git source for r at the commit the build uses:
// the URL's, else the one the lock beside the definition records, else
// r's ref as written, which BuildKit resolves. The .git directory is
// dropped (no KeepGitDir): the context is the tree alone, the same for
// every checkout of the commit.
func (b *build) gitState(r gitctx.Ref) (llb.State, error) {
	custom, err := b.lockCustom()
	if err != nil {
		return llb.State{}, err
	}
	opts := []llb.GitOption{llb.WithCustomName("[internal] load git context " + r.String())}
	if r.Subdir != "" {
		opts = append(opts, llb.GitSubDir(r.Subdir))
	}
	return llb.Git(r.Remote, "", append(opts, llb.GitRef(cmp.Or(r.Pin(custom), r.Ref)))...), nil
}

// lockCustom returns the custom_metadata of the lock in the context, nil
// without a lock.
func (b *build) lockCustom() (map[string]string, error) {
	data, err := fs.ReadFile(b.fsys, buildplan.LockFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", buildplan.LockFile, err)
	}
	lk, err := lock.Read(buildplan.LockFile, data)
	if err != nil {
		return nil, err
	}
	return lk.Metadata.Custom, nil
}
