// Package gitctx reads git build contexts: the URL grammar of Docker and
// BuildKit (`URL#ref:subdir`, which Azure ML's build.path uses), which
// commit a context is built from (its URL's, else the lock's), and, for
// the CLI, the git binary that resolves a ref and checks a commit out.
package gitctx

import (
	"errors"
	"fmt"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/dfgitutil"
	"github.com/moby/buildkit/util/gitutil"
)

// Ref is a git build context.
type Ref struct {
	// Remote is the repository URL, without fragment or query.
	Remote string
	// Ref is a branch, a tag or a commit; "" is the remote's HEAD.
	Ref string
	// Commit is the commit the URL pins besides a ref (`?commit=`), "".
	Commit string
	// Subdir is the context directory inside the repository, "" for its
	// root; slash-separated, clean, never leaving the repository.
	Subdir string
}

// IsRemote says whether a build-context value names a remote context
// (a URL, or scp-style git@host:path) rather than a local directory.
func IsRemote(s string) bool {
	return strings.Contains(s, "://") || strings.HasPrefix(s, "git@")
}

// Parse reads a git context URL as BuildKit's Dockerfile frontend does
// (dfgitutil.ParseGitRef: `#ref:subdir` fragment, or the ref, branch, tag,
// subdir and commit queries), with one difference: an http(s) URL needs
// no ".git" suffix. BuildKit asks for it to tell a repository from a
// file to download; where a context directory is expected only a
// repository makes sense, and Azure ML's own form has none
// (https://github.com/Azure/azureml-assets#<commit>:<path>).
func Parse(s string) (Ref, error) {
	in, added := withGitSuffix(s)
	g, isGit, err := dfgitutil.ParseGitRef(in)
	switch {
	case errors.Is(err, gitutil.ErrUnknownProtocol), errors.Is(err, gitutil.ErrInvalidProtocol), err == nil && !isGit:
		return Ref{}, fmt.Errorf("%q is not a git URL: a remote build context is a git repository (https://host/org/repo.git#ref:subdir, ssh://, git://, git@host:org/repo.git)", s)
	case err != nil:
		return Ref{}, fmt.Errorf("git URL %q: %v", s, err)
	}
	if g.IndistinguishableFromLocal {
		return Ref{}, fmt.Errorf("%q is not a git URL: give the scheme (https://%s)", s, s)
	}
	switch {
	case g.KeepGitDir != nil && *g.KeepGitDir:
		return Ref{}, fmt.Errorf("git URL %q: keep-git-dir is not supported (the .git directory would make the context differ between checkouts)", s)
	case g.Submodules != nil, g.MTime != "", g.FetchByCommit:
		return Ref{}, fmt.Errorf("git URL %q: only the ref, branch, tag, subdir and commit queries are supported", s)
	case g.Checksum != "" && !gitutil.IsCommitSHA(g.Checksum):
		return Ref{}, fmt.Errorf("git URL %q: commit %q is not a full commit hash (40 or 64 hexadecimal digits)", s, g.Checksum)
	case g.Checksum != "" && gitutil.IsCommitSHA(g.Ref) && g.Ref != g.Checksum:
		return Ref{}, fmt.Errorf("git URL %q: the ref %s and the commit %s differ", s, g.Ref, g.Checksum)
	}
	remote := g.Remote
	if added {
		remote = strings.TrimSuffix(remote, ".git")
	}
	if !hasRepository(in, added) {
		return Ref{}, fmt.Errorf("git URL %q names no repository: give the host and the repository's path", s)
	}
	if hasPassword(remote) {
		return Ref{}, fmt.Errorf("git URL %q holds a password or token: it would be written into locks and build records; give credentials to git (a credential helper or ~/.netrc) instead", redact(s))
	}
	return Ref{Remote: remote, Ref: g.Ref, Commit: g.Checksum, Subdir: g.SubDir}, nil
}

// withGitSuffix adds ".git" to an http(s) URL's path that lacks it, so
// that BuildKit's parser reads it as a repository; added says so.
func withGitSuffix(s string) (string, bool) {
	lower := strings.ToLower(s)
	if !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") {
		return s, false
	}
	end := len(s)
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		end = i
	}
	if strings.HasSuffix(s[:end], ".git") {
		return s, false
	}
	return s[:end] + ".git" + s[end:], true
}

// hasRepository reports a URL (as given to BuildKit's parser, with the
// ".git" withGitSuffix added, if any) with a host and a path.
func hasRepository(in string, added bool) bool {
	u, err := gitutil.ParseURL(in)
	if err != nil {
		return false
	}
	p := u.Path
	if added {
		p = strings.TrimSuffix(p, ".git")
	}
	return u.Host != "" && strings.Trim(p, "/") != ""
}

// hasPassword reports userinfo with a password (user:secret@).
func hasPassword(remote string) bool {
	_, rest, ok := strings.Cut(remote, "://")
	if !ok {
		return false
	}
	host, _, _ := strings.Cut(rest, "/")
	user, _, ok := strings.Cut(host, "@")
	return ok && strings.Contains(user, ":")
}

// redact hides the password of a URL for messages.
func redact(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return s
	}
	i := strings.Index(rest, "@")
	if j := strings.Index(rest, "/"); i < 0 || j >= 0 && j < i {
		return s
	}
	user, _, _ := strings.Cut(rest[:i], ":")
	return scheme + "://" + user + ":xxxxx" + rest[i:]
}

// String is the context in fragment form: Remote#ref:subdir (with the
// commit as the ref when the URL pinned one by query).
func (r Ref) String() string {
	ref := r.Ref
	if r.Commit != "" {
		ref = r.Commit
	}
	s := r.Remote
	if ref != "" || r.Subdir != "" {
		s += "#" + ref
		if r.Subdir != "" {
			s += ":" + r.Subdir
		}
	}
	return s
}

// Exact says whether the URL itself names the commit: the hash then
// follows the URL alone; a branch or tag follows the lock.
func (r Ref) Exact() bool {
	return r.Commit != "" || gitutil.IsCommitSHA(r.Ref)
}

// IsCommit says whether s is a full commit hash (SHA-1 or SHA-256).
func IsCommit(s string) bool { return gitutil.IsCommitSHA(s) }
