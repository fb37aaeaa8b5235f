package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"

	"github.com/envkit/envkit/internal/buildplan"
	"github.com/envkit/envkit/internal/conda/lock"
	"github.com/envkit/envkit/internal/gitctx"
	"github.com/envkit/envkit/internal/spec"
)

// loadWithGit reads a definition as the build reads it (gitOpener);
// pins are the commits read for branch and tag refs, for the lock.
func loadWithGit(ctx context.Context, file, lockFile string, resolve bool) (*spec.Definition, map[string]string, error) {
	f, open := gitOpener(ctx, lockFile, resolve)
	defer f.Close()
	def, err := spec.LoadWith(file, spec.Options{Git: open})
	return def, f.Pins(), err
}

// gitOpener checks a git build context out with git (gitctx.Fetcher) at
// the commit the build uses: its URL's, else the one lockFile records,
// else the one its ref names now. resolve ignores lockFile's pins (envkit
// lock --update). Closing the Fetcher removes the checkouts.
func gitOpener(ctx context.Context, lockFile string, resolve bool) (*gitctx.Fetcher, spec.GitOpener) {
	f := &gitctx.Fetcher{Ctx: ctx, Resolve: resolve}
	read := false
	return f, func(r gitctx.Ref) (fs.FS, error) {
		// The lock is read only for a ref it may pin.
		if !read && !r.Exact() && !resolve {
			read = true
			custom, err := lockedCustom(lockFile)
			if err != nil {
				return nil, err
			}
			f.Locked = custom
		}
		return f.Open(r)
	}
}

// lockedCustom returns the custom_metadata of the lock at p, nil when
// there is none.
func lockedCustom(p string) (map[string]string, error) {
	l, err := lock.ReadFile(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil
	case err != nil:
		return nil, err
	}
	return l.Metadata.Custom, nil
}

// besideLock is the lock build and hash read for a definition file (or
// definition directory).
func besideLock(file string) string {
	if st, err := os.Stat(file); err == nil && st.IsDir() {
		return filepath.Join(file, buildplan.LockFile)
	}
	return filepath.Join(filepath.Dir(file), buildplan.LockFile)
}

// gitPinsStale says why old does not pin the git contexts as pins do, ""
// when it does.
func gitPinsStale(old *lock.Lock, pins map[string]string) string {
	var have map[string]string
	if old != nil {
		have = gitctx.Pinned(old.Metadata.Custom)
	}
	if maps.Equal(have, pins) {
		return ""
	}
	return "the git build context's ref is not pinned to the commit read"
}

// lockGitOnly writes the lock of a definition with no conda part: only
// the commits of its git contexts' branches and tags (custom_metadata).
func lockGitOnly(stderr io.Writer, file, out string, old *lock.Lock, pins map[string]string, opts *lockOptions) error {
	stale := gitPinsStale(old, pins)
	switch {
	case opts.check && old == nil:
		return fmt.Errorf("%s: no lock: run envkit lock %s", out, file)
	case opts.check && stale != "":
		return fmt.Errorf("%s: %s: run envkit lock %s", out, stale, file)
	case stale == "" && !opts.update:
		if !opts.quietWhenCurrent {
			fmt.Fprintf(stderr, "%s is up to date\n", out)
		}
		return nil
	}
	source, err := filepath.Rel(filepath.Dir(out), file)
	if err != nil {
		source = file
	}
	l := &lock.Lock{Metadata: lock.Metadata{
		ContentHash: map[string]string{},
		Sources:     []string{filepath.ToSlash(source)},
		Custom:      gitctx.Record(nil, pins),
	}}
	if opts.dryRun {
		fmt.Fprintf(stderr, "dry run: %s not written\n", out)
		return nil
	}
	if _, err := l.WriteFile(out); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s (git context commits only: no conda environment)\n", out)
	return nil
}
