package spec

import (
	"io/fs"
	"path"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/envkit/envkit/internal/gitctx"
)

// GitOpener opens a git build context: the directory it names, at the
// commit the build uses, as BuildKit's git source checks it out (no .git
// directory, no .dockerignore applied). The CLI checks it out with git
// (gitctx.Fetcher), the frontend reads BuildKit's git source.
type GitOpener func(gitctx.Ref) (fs.FS, error)

// Options say how a definition is read.
type Options struct {
	// Format overrides detection when set.
	Format Format
	// Git opens git build contexts; without it a definition naming one is
	// refused, naming the context.
	Git GitOpener
}

// gitContext reads a build context value that is a URL (build.path,
// base.context) at node n: it parses it (gitctx.Parse, BuildKit's
// grammar) and opens it, keeping the tree for the files read from it.
func (r *reader) gitContext(d *doc, n *yaml.Node, value, key string) (_ *gitctx.Ref, ok bool) {
	defer func() { r.noContext = !ok }()
	g, err := gitctx.Parse(value)
	if err != nil {
		d.errorf(n, "%s: %v", key, err)
		return nil, false
	}
	if r.git == nil {
		d.errorf(n, "%s: git build context %s: this command does not read git contexts", key, g)
		return nil, false
	}
	tree, err := r.git(g)
	if err != nil {
		d.errorf(n, "%s: %v", key, err)
		return nil, false
	}
	r.gitTree = tree
	return &g, true
}

// readGitFile reads rel, relative to the git context, at node n.
func (r *reader) readGitFile(d *doc, n *yaml.Node, g *gitctx.Ref, rel, what string) ([]byte, bool) {
	p := path.Clean("/" + rel)[1:]
	data, err := fs.ReadFile(r.gitTree, p)
	if err != nil {
		d.errorf(n, "%s: cannot read %q in %s: %v", what, rel, g, unwrapPathError(err))
		return nil, false
	}
	if !utf8.Valid(data) {
		d.errorf(n, "%s: %q in %s is not UTF-8 text", what, rel, g)
		return nil, false
	}
	return data, true
}

// gitFileName names a file of a git context in messages (the FILE of
// FILE:LINE:COL): the context's URL, then the path inside it.
func gitFileName(g *gitctx.Ref, rel string) string {
	return g.String() + " " + path.Clean(rel)
}
