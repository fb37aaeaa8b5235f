package install

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/envkit/envkit/internal/wheel"
)

// environmentPython is the prefix's own python (PREFIX/bin/python or
// python3), "" when it has none.
func environmentPython(root *os.Root, prefix string) string {
	for _, c := range []string{"bin/python", "bin/python3"} {
		if st, err := root.Stat(c); err == nil && !st.IsDir() {
			return filepath.Join(prefix, c)
		}
	}
	return ""
}

// CompileNoarch compiles the .py files of the noarch: python records that
// hold no .pyc yet — a package layer compiled when it was linked is not
// compiled again when the environment is finalized — with python, in
// unchecked-hash mode: the .pyc then holds a hash of the source instead
// of its mtime, so it is reproducible and stays valid whatever mtimes the
// image gets. root holds the files at the paths the records give; each
// .pyc names its source at prefix, where the file is in the environment.
// The .pyc files join the records, written again under root, as conda
// records them (path type pyc_file). env is python's environment
// (os.Environ when nil), PREFIX/bin first on its PATH.
func CompileNoarch(root *os.Root, prefix, python string, env []string, recs []*PrefixRecord) error {
	if env == nil {
		env = os.Environ()
	}
	var todo []*PrefixRecord
	var srcs []string
	for _, r := range recs {
		if r.Noarch != "python" || hasPyc(r) {
			continue
		}
		todo = append(todo, r)
		for _, f := range r.Files {
			if strings.HasSuffix(f, ".py") && strings.Contains(f, "site-packages/") {
				srcs = append(srcs, f)
			}
		}
	}
	pycs, err := wheel.CompileFiles(python, withPath(env, filepath.Join(prefix, "bin")), root, srcs,
		func(src string) string { return filepath.Join(prefix, src) })
	if err != nil {
		return err
	}
	bySource := map[string]wheel.Pyc{}
	for _, p := range pycs {
		bySource[p.Source] = p
	}
	for _, r := range todo {
		added := false
		for _, f := range r.Files {
			p, ok := bySource[f]
			if !ok || slices.Contains(r.Files, p.Path) {
				continue
			}
			n := p.Size
			r.PathsData.Paths = append(r.PathsData.Paths, PathEntry{Path: p.Path, PathType: PycFile, SHA256InPrefix: hex.EncodeToString(p.SHA256[:]), SizeInBytes: &n})
			added = true
		}
		if added {
			r.Files = r.Files[:0]
			for _, p := range r.PathsData.Paths {
				r.Files = append(r.Files, p.Path)
			}
			if err := writeRecord(root, r); err != nil {
				return err
			}
		}
	}
	return nil
}

func hasPyc(r *PrefixRecord) bool {
	for _, p := range r.PathsData.Paths {
		if p.PathType == PycFile {
			return true
		}
	}
	return false
}
