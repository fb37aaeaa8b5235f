package gitctx

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/envkit/envkit/internal/credentials"
)

// DefaultTimeout bounds each git command a Fetcher runs.
const DefaultTimeout = 5 * time.Minute

// Fetcher gives the CLI the git contexts a definition names, read with
// the git binary as BuildKit's git source reads them: one commit, shallow,
// without its .git directory. Each context is read at the commit its URL
// names, else the one the lock records, else the one its ref points to
// now (git ls-remote), which Pins then reports for the lock.
type Fetcher struct {
	// Ctx bounds the whole work; nil is context.Background.
	Ctx context.Context
	// Locked is the lock's custom_metadata, nil without a lock.
	Locked map[string]string
	// Resolve makes every branch or tag ref resolve afresh, ignoring the
	// lock's pins (envkit lock moving them on purpose).
	Resolve bool
	// Timeout bounds each git command; 0 means DefaultTimeout.
	Timeout time.Duration

	dir   string
	pins  map[string]string     // key → commit read
	trees map[string]string     // remote@commit → checkout
	roots map[string][]*os.Root // open roots, closed by Close
}

// Open returns the context directory of r, checked out once per commit.
// Its signature is spec.GitOpener's.
func (f *Fetcher) Open(r Ref) (fs.FS, error) {
	ctx := f.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	commit := r.Pin(f.Locked)
	if f.Resolve && !r.Exact() {
		commit = ""
	}
	if commit == "" {
		c, err := f.resolve(ctx, r.Remote, r.Ref)
		if err != nil {
			return nil, err
		}
		commit = c
	}
	if !r.Exact() {
		if f.pins == nil {
			f.pins = map[string]string{}
		}
		f.pins[r.key()] = commit
	}
	tree, err := f.checkout(ctx, r.Remote, commit)
	if err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(tree)
	if err != nil {
		return nil, err
	}
	if f.roots == nil {
		f.roots = map[string][]*os.Root{}
	}
	f.roots[tree] = append(f.roots[tree], root)
	if r.Subdir == "" {
		return root.FS(), nil
	}
	// Opened through the repository's root, so that the subdirectory
	// cannot be a link out of it.
	sub, err := root.OpenRoot(filepath.FromSlash(r.Subdir))
	if err != nil {
		return nil, fmt.Errorf("%s at %s: subdirectory %s: %w", r.Remote, short(commit), r.Subdir, unwrap(err))
	}
	f.roots[tree] = append(f.roots[tree], sub)
	return sub.FS(), nil
}

// Pins returns the commits read for branch and tag refs (key → commit),
// for Record.
func (f *Fetcher) Pins() map[string]string { return f.pins }

// Close removes the checkouts.
func (f *Fetcher) Close() error {
	for _, rs := range f.roots {
		for _, r := range rs {
			r.Close()
		}
	}
	f.roots, f.trees = nil, nil
	if f.dir == "" {
		return nil
	}
	err := os.RemoveAll(f.dir)
	f.dir = ""
	return err
}

// resolve returns the commit ref points to on remote, as BuildKit's git
// source picks it: refs/<ref> exactly, else the branch, else the tag
// (an annotated tag's commit); "" is the remote's HEAD.
func (f *Fetcher) resolve(ctx context.Context, remote, ref string) (string, error) {
	args := []string{"ls-remote", "--", remote}
	if ref == "" {
		args = append(args, "HEAD")
	} else {
		args = append(args, ref, ref+"^{}")
	}
	env, err := authEnv(remote)
	if err != nil {
		return "", err
	}
	out, err := f.git(ctx, "", env, args...)
	if err != nil {
		return "", fmt.Errorf("resolving %s#%s: %w", remote, ref, err)
	}
	commit := pick(string(out), ref)
	if commit == "" {
		if ref == "" {
			return "", fmt.Errorf("%s has no HEAD: name a branch, tag or commit after # in the URL", remote)
		}
		return "", fmt.Errorf("%s has no branch or tag %q", remote, ref)
	}
	return commit, nil
}

// pick reads git ls-remote's output for ref.
func pick(out, ref string) string {
	found := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		sha, name, ok := strings.Cut(strings.TrimSpace(line), "\t")
		if ok && IsCommit(sha) {
			found[name] = sha
		}
	}
	if ref == "" {
		return found["HEAD"]
	}
	// An annotated tag's own hash is not a commit: its peeled line is.
	for _, name := range []string{
		"refs/" + strings.TrimPrefix(ref, "refs/"),
		"refs/heads/" + strings.TrimPrefix(ref, "refs/heads/"),
		"refs/tags/" + strings.TrimPrefix(ref, "refs/tags/"),
	} {
		if sha := found[name]; sha != "" {
			return cmp.Or(found[name+"^{}"], sha)
		}
	}
	return ""
}

// checkout writes commit's tree into a directory of its own, without
// .git, and returns it.
func (f *Fetcher) checkout(ctx context.Context, remote, commit string) (string, error) {
	id := remote + "@" + commit
	if t, ok := f.trees[id]; ok {
		return t, nil
	}
	if f.dir == "" {
		d, err := os.MkdirTemp("", "envkit-git-")
		if err != nil {
			return "", err
		}
		f.dir = d
	}
	tree, err := os.MkdirTemp(f.dir, "tree-")
	if err != nil {
		return "", err
	}
	fail := func(err error) (string, error) {
		os.RemoveAll(tree)
		return "", fmt.Errorf("checking out %s at %s: %w", remote, short(commit), err)
	}
	if _, err := f.git(ctx, tree, nil, "init", "--quiet"); err != nil {
		return fail(err)
	}
	// One commit, shallow. A server that refuses to serve a commit by
	// name (protocol v0 without allowReachableSHA1InWant) gets a full
	// fetch of its branches and tags instead, as BuildKit falls back too.
	env, err := authEnv(remote)
	if err != nil {
		return fail(err)
	}
	if _, err := f.git(ctx, tree, env, "fetch", "--quiet", "--depth=1", "--no-tags", "--", remote, commit); err != nil {
		if _, err := f.git(ctx, tree, env, "fetch", "--quiet", "--no-tags", "--", remote, "+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"); err != nil {
			return fail(err)
		}
	}
	if _, err := f.git(ctx, tree, nil, "-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach", commit); err != nil {
		if strings.Contains(err.Error(), "not a tree") {
			return fail(fmt.Errorf("the repository has no commit %s (fetched its branches and tags): check the commit in the URL or the lock", commit))
		}
		return fail(err)
	}
	// Submodules are part of the context, as BuildKit's git source
	// checks them out too.
	if _, err := os.Stat(filepath.Join(tree, ".gitmodules")); err == nil {
		if _, err := f.git(ctx, tree, nil, "submodule", "update", "--init", "--recursive", "--depth=1"); err != nil {
			return fail(err)
		}
	}
	if err := removeGitDirs(tree); err != nil {
		return fail(err)
	}
	if f.trees == nil {
		f.trees = map[string]string{}
	}
	f.trees[id] = tree
	return tree, nil
}

// removeGitDirs removes the .git directory of the checkout and the .git
// files of its submodules: BuildKit's context holds the tree alone.
func removeGitDirs(tree string) error {
	var gits []string
	err := filepath.WalkDir(tree, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Name() == ".git" {
			gits = append(gits, p)
			if d.IsDir() {
				return filepath.SkipDir
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, g := range gits {
		if err := os.RemoveAll(g); err != nil {
			return err
		}
	}
	return nil
}

// authEnv is the git configuration, given through the environment (not
// the command line, which other users can read), that sends remote's
// credentials as envkit finds them for any download (credentials.ForURL:
// netrc or $NETRC, $RATTLER_AUTH_FILE); none without credentials. A
// BuildKit build gets the same header as the secret GIT_AUTH_HEADER.<host>.
func authEnv(remote string) ([]string, error) {
	a, err := credentials.ForURL(remote)
	if err != nil || a.Header == "" {
		return nil, err
	}
	return []string{"GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=http.extraHeader", "GIT_CONFIG_VALUE_0=Authorization: " + a.Header}, nil
}

// git runs one git command in dir, bounded by the timeout, never asking
// for a password on the terminal, and aborting a transfer that stalls.
func (f *Fetcher) git(ctx context.Context, dir string, env []string, args ...string) ([]byte, error) {
	timeout := f.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_HTTP_LOW_SPEED_LIMIT=1000", "GIT_HTTP_LOW_SPEED_TIME=60", "LC_ALL=C"), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	// The subcommand, past "-c key=value" settings, names what failed.
	sub := args[0]
	for i := 0; i+1 < len(args) && args[i] == "-c"; i += 2 {
		sub = args[min(i+2, len(args)-1)]
	}
	switch {
	case errors.Is(err, exec.ErrNotFound):
		return nil, errors.New("git is not installed: envkit runs git to read git build contexts")
	case ctx.Err() == context.DeadlineExceeded:
		return nil, fmt.Errorf("git %s: no answer within %s", sub, timeout)
	case err != nil:
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 2000 {
			msg = msg[:2000] + "…"
		}
		return nil, fmt.Errorf("git %s: %v: %s", sub, err, msg)
	}
	return stdout.Bytes(), nil
}

func short(commit string) string { return commit[:min(12, len(commit))] }

func unwrap(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
