package spec

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// contextFiles records the digest of every build-context file the base
// Dockerfile and the steps COPY or ADD, so the definition hash changes when
// one of them does.
func (r *reader) contextFiles(d *doc, def *Definition) {
	if def.Base.Dockerfile == "" && len(def.Steps) == 0 || r.noContext {
		return
	}
	cfs, ignored, closeFS, ok := r.buildContext(d, def)
	if !ok {
		return
	}
	defer closeFS()
	digests := map[string]string{}
	if def.Base.Dockerfile != "" {
		// A Dockerfile that does not parse is validate's to report
		// (checkDockerfile).
		if ast, err := parser.Parse(strings.NewReader(def.Base.Dockerfile)); err == nil {
			for _, n := range ast.AST.Children {
				r.digestSources(d, n, dockerfilePos(def.Base, n), cfs, ignored, digests)
			}
		}
	}
	for _, st := range def.Steps {
		ast, err := parser.Parse(strings.NewReader(st.Instruction))
		if err != nil {
			continue // validate reports it (checkStep)
		}
		for _, n := range ast.AST.Children {
			r.digestSources(d, n, st.Pos, cfs, ignored, digests)
		}
	}
	for p, dg := range digests {
		def.Base.ContextFiles = append(def.Base.ContextFiles, FileDigest{Path: p, Digest: dg})
	}
	sort.Slice(def.Base.ContextFiles, func(i, j int) bool { return def.Base.ContextFiles[i].Path < def.Base.ContextFiles[j].Path })
}

// dockerfilePos is where instruction n of the base Dockerfile is written:
// its line in a Dockerfile file, the base's own position for an inline
// one; n nil is the Dockerfile as a whole.
func dockerfilePos(b Base, n *parser.Node) Pos {
	switch {
	case b.DockerfileFile == "":
		return b.Pos
	case n == nil:
		return Pos{File: b.DockerfileFile}
	}
	return Pos{File: b.DockerfileFile, Line: n.StartLine, Col: 1}
}

// buildContext returns the build context as BuildKit sends it: a local
// directory without what its .dockerignore excludes, or a git context
// whole (BuildKit applies no .dockerignore to a git context).
func (r *reader) buildContext(d *doc, def *Definition) (cfs fs.FS, ignored func(string) bool, closeFS func(), ok bool) {
	if def.Base.Git != nil {
		return r.gitTree, func(string) bool { return false }, func() {}, true
	}
	ctxDir := r.dir
	if def.Base.Context != "" {
		p, err := r.local(def.Base.Context)
		if err != nil {
			return nil, nil, nil, false // reported by the reader
		}
		ctxDir = p
	}
	cfs, closeFS, err := r.contextFS(ctxDir)
	if err != nil {
		d.e.add(Pos{File: r.display(ctxDir)}, "build context: %v", unwrapPathError(err))
		return nil, nil, nil, false
	}
	if ignored, err = dockerignore(cfs); err != nil {
		closeFS()
		d.e.add(Pos{File: r.display(path.Join(ctxDir, ".dockerignore"))}, "%v", err)
		return nil, nil, nil, false
	}
	return cfs, ignored, closeFS, true
}

// contextSources lists the build-context paths one instruction reads:
// COPY and ADD sources (not --from another stage or image, not URLs or
// heredocs) and RUN --mount=type=bind sources without from=.
func contextSources(n *parser.Node) []string {
	switch strings.ToUpper(n.Value) {
	case "COPY", "ADD":
		for _, fl := range n.Flags {
			if strings.HasPrefix(fl, "--from") {
				return nil
			}
		}
		var args, out []string
		for a := n.Next; a != nil; a = a.Next {
			args = append(args, a.Value)
		}
		if len(args) < 2 {
			return nil
		}
		for _, src := range args[:len(args)-1] {
			if strings.HasPrefix(src, "<<") || strings.Contains(src, "://") || strings.HasPrefix(src, "git@") {
				continue
			}
			out = append(out, src)
		}
		return out
	case "RUN":
		var out []string
		for _, fl := range n.Flags {
			spec, ok := strings.CutPrefix(fl, "--mount=")
			if !ok {
				continue
			}
			typ, src, from := "bind", ".", ""
			for _, kv := range strings.Split(spec, ",") {
				k, v, _ := strings.Cut(kv, "=")
				switch k {
				case "type":
					typ = v
				case "source", "src":
					src = v
				case "from":
					from = v
				}
			}
			if typ == "bind" && from == "" {
				out = append(out, src)
			}
		}
		return out
	}
	return nil
}

const escapeMsg = "leads out of the build context through a symlink: refused (BuildKit resolves links inside the context; point the link inside it, or copy the file in)"

// escapes reports whether err is os.Root's refusal of a path that leaves
// it (its error value is not exported; its text is fixed).
func escapes(err error) bool {
	return err != nil && strings.Contains(err.Error(), "path escapes from parent")
}

// contextFS is the build context seen from inside, as BuildKit's context
// transfer sees it: on the host an os.Root, where a symlink resolves inside
// the context or fails; else fsys below ctxDir. It is nil without fsys.
func (r *reader) contextFS(ctxDir string) (fs.FS, func(), error) {
	switch {
	case r.fsys == nil:
		return nil, func() {}, nil
	case r.hostDir == "":
		sub, err := fs.Sub(r.fsys, ctxDir)
		return sub, func() {}, err
	}
	// Opened through the definition's directory, so that the context
	// directory itself cannot be a link out of it either.
	host, err := os.OpenRoot(r.hostDir)
	if err != nil {
		return nil, nil, err
	}
	defer host.Close()
	root, err := host.OpenRoot(filepath.FromSlash(ctxDir))
	if err != nil {
		return nil, nil, err
	}
	return root.FS(), func() { root.Close() }, nil
}

// digestSources digests the context files one instruction reads; cfs is
// the build context.
func (r *reader) digestSources(d *doc, n *parser.Node, at Pos, cfs fs.FS, ignored func(string) bool, digests map[string]string) {
	instr := strings.ToUpper(n.Value)
	for _, src := range contextSources(n) {
		rel := path.Clean("/" + src)[1:]
		if rel == "" {
			rel = "."
		}
		if cfs == nil {
			d.e.add(at, "%s source %q is outside the build context", instr, src)
			continue
		}
		matches, err := fs.Glob(cfs, rel)
		if err != nil || len(matches) == 0 {
			if _, err := fs.Stat(cfs, rel); escapes(err) {
				d.e.add(at, "%s source %q: %s", instr, src, escapeMsg)
			} else {
				d.e.add(at, "%s source %q: no such file in the build context", instr, src)
			}
			continue
		}
		for _, m := range matches {
			err := fs.WalkDir(cfs, m, func(fp string, de fs.DirEntry, err error) error {
				if err != nil || de.IsDir() {
					return err
				}
				if ignored(fp) {
					return nil // BuildKit never sends it
				}
				data, err := fs.ReadFile(cfs, fp)
				if err != nil {
					return err
				}
				sum := sha256.Sum256(data)
				digests[fp] = "sha256:" + hex.EncodeToString(sum[:])
				return nil
			})
			switch {
			case escapes(err):
				d.e.add(at, "%s source %q: %s", instr, src, escapeMsg)
			case err != nil:
				d.e.add(at, "%s source %q: %v", instr, src, unwrapPathError(err))
			}
		}
	}
}

// dockerignore returns the matcher of the context's .dockerignore: files it
// excludes are not sent to BuildKit, so they cannot change the image.
func dockerignore(cfs fs.FS) (func(string) bool, error) {
	none := func(string) bool { return false }
	if cfs == nil {
		return none, nil
	}
	data, err := fs.ReadFile(cfs, ".dockerignore")
	if err != nil {
		return none, nil // no .dockerignore
	}
	patterns, err := ignorefile.ReadAll(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return nil, err
	}
	return func(rel string) bool {
		ok, err := pm.MatchesOrParentMatches(rel)
		return err == nil && ok
	}, nil
}
