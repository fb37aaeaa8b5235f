package install

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/envkit/envkit/internal/conda/repodata"
)

// FinalizeOptions say how to finish an environment whose packages are all
// linked.
type FinalizeOptions struct {
	// Epoch is the mtime of everything Finalize writes (SOURCE_DATE_EPOCH).
	Epoch time.Time
	// Command goes into conda-meta/history ("# cmd: …").
	Command string
	// Env is the environment the scripts and python run with (os.Environ
	// when nil); PREFIX and friends are added to it.
	Env []string
	// Messages receives what scripts leave in PREFIX/.messages.txt for the
	// user (conda prints it, then deletes the file); nil discards it.
	Messages io.Writer
	// NoScripts skips the pre- and post-link scripts: nothing a package
	// ships then runs on the host (docs/installer.md says what it breaks).
	NoScripts bool
}

// ScriptError is a link script that failed; Output is what it printed.
type ScriptError struct {
	Package, Kind string
	Err           error
	Output        string
}

func (e *ScriptError) Error() string {
	out := strings.TrimRight(e.Output, "\n")
	if out == "" {
		return fmt.Sprintf("%s: %s script failed (%v) with no output", e.Package, e.Kind, e.Err)
	}
	return fmt.Sprintf("%s: %s script failed (%v):\n%s", e.Package, e.Kind, e.Err, out)
}

// Finalize runs what needs the whole environment at prefix (an absolute
// path where it now lives): each package's pre-link scripts, then each
// package's post-link scripts, in dependency order (unless
// opts.NoScripts); .pyc compilation of noarch: python packages when the
// environment has a python; and conda-meta/history. Afterwards every
// entry under prefix whose mtime is not opts.Epoch gets it, so an image
// layer holding only Finalize's changes stays reproducible and unchanged
// files are not copied up.
//
// Every symlink in the prefix is resolved first and one that leaves it is
// refused: packages linked separately (or layers merged) can combine links
// that were each fine into one that is not, and the scripts and python run
// on paths in the prefix. Finalize's own reads and writes go through an
// os.Root of the prefix.
func Finalize(prefix string, opts FinalizeOptions) error {
	root, err := os.OpenRoot(prefix)
	if err != nil {
		return err
	}
	defer root.Close()
	if err := CheckLinks(root); err != nil {
		return err
	}
	prs, err := readRecords(root)
	if err != nil {
		return err
	}
	ordered := recordsInOrder(prs)
	env := opts.Env
	if env == nil {
		env = os.Environ()
	}
	if !opts.NoScripts {
		if err := runScripts(root, prefix, ordered, env, opts.Messages); err != nil {
			return err
		}
	}
	if python := environmentPython(root, prefix); python != "" {
		if err := CompileNoarch(root, prefix, python, env, ordered); err != nil {
			return err
		}
	}
	if err := writeHistory(root, ordered, opts); err != nil {
		return err
	}
	return settleMtimes(root, opts.Epoch)
}

// recordsInOrder is DependencyOrder for prefix records.
func recordsInOrder(prs []*PrefixRecord) []*PrefixRecord {
	byName := map[string]*PrefixRecord{}
	recs := make([]*repodata.Record, 0, len(prs))
	for _, r := range prs {
		byName[r.Name] = r
		recs = append(recs, &r.Record)
	}
	out := make([]*PrefixRecord, 0, len(prs))
	for _, r := range DependencyOrder(recs) {
		out = append(out, byName[r.Name])
	}
	return out
}

// runScripts runs every package's pre-link script, then every package's
// post-link script, in the records' order, passing on their messages.
func runScripts(root *os.Root, prefix string, ordered []*PrefixRecord, env []string, messages io.Writer) error {
	for _, kind := range []string{"pre-link", "post-link"} {
		for _, r := range ordered {
			if err := runScript(root, prefix, r, kind, env); err != nil {
				return err
			}
			if err := takeMessages(root, messages); err != nil {
				return err
			}
		}
	}
	return nil
}

// runScript runs bin/.<name>-<kind>.sh when the package has one. conda
// runs it through a shell that *sources* it (so a top-level `return`
// works), with bash when there is one (scripts use bashisms such as
// [[ ]]) and /bin/sh otherwise. The script is arbitrary code, as in conda.
func runScript(root *os.Root, prefix string, r *PrefixRecord, kind string, env []string) error {
	rel := "bin/." + r.Name + "-" + kind + ".sh"
	if st, err := root.Stat(rel); errors.Is(err, fs.ErrNotExist) || err == nil && !st.Mode().IsRegular() {
		return nil
	} else if err != nil {
		return fmt.Errorf("%s: %w", r.Dist(), err)
	}
	shell := "/bin/sh"
	if p, err := lookPath("bash", env); err == nil {
		shell = p
	}
	cmd := exec.Command(shell, "-c", `. "$0"`, filepath.Join(prefix, rel))
	cmd.Dir = prefix
	cmd.Env = append(withPath(env, filepath.Join(prefix, "bin")),
		"PREFIX="+prefix, "ROOT_PREFIX="+prefix, "CONDA_PREFIX="+prefix,
		"PKG_NAME="+r.Name, "PKG_VERSION="+r.Version, fmt.Sprintf("PKG_BUILDNUM=%d", r.BuildNumber))
	out, err := cmd.CombinedOutput()
	if err != nil {
		return &ScriptError{Package: r.Dist(), Kind: kind, Err: err, Output: string(out)}
	}
	return nil
}

// takeMessages moves PREFIX/.messages.txt, which link scripts append to,
// out of the environment and to w.
func takeMessages(root *os.Root, w io.Writer) error {
	const file = ".messages.txt"
	f, err := root.Open(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if w == nil {
		w = io.Discard
	}
	_, err = io.Copy(w, f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return root.Remove(file)
}

// withPath puts dir first on PATH, as conda's activation does.
func withPath(env []string, dir string) []string {
	out := make([]string, 0, len(env)+1)
	path := dir
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = dir + ":" + v
			continue
		}
		out = append(out, kv)
	}
	return append(out, "PATH="+path)
}

// lookPath finds name on env's PATH (not the calling process's).
func lookPath(name string, env []string) (string, error) {
	pathVar := "/usr/local/bin:/usr/bin:/bin"
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			pathVar = v
		}
	}
	for _, dir := range filepath.SplitList(pathVar) {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", os.ErrNotExist
}

// writeHistory writes conda-meta/history as one revision holding every
// package, dated at the epoch and free of host paths.
func writeHistory(root *os.Root, recs []*PrefixRecord, opts FinalizeOptions) error {
	var b strings.Builder
	fmt.Fprintf(&b, "==> %s <==\n", opts.Epoch.UTC().Format("2006-01-02 15:04:05"))
	cmd := opts.Command
	if cmd == "" {
		cmd = "envkit"
	}
	fmt.Fprintf(&b, "# cmd: %s\n", cmd)
	var specs []string
	for _, r := range recs {
		ch := r.Channel
		if ch == "" {
			ch = "<unknown>"
		}
		fmt.Fprintf(&b, "+%s::%s\n", ch, r.Dist())
		if r.RequestedSpec != "" {
			specs = append(specs, r.RequestedSpec)
		}
	}
	sort.Strings(specs)
	js, _ := json.Marshal(specs)
	if specs == nil {
		js = []byte("[]")
	}
	fmt.Fprintf(&b, "# update specs: %s\n", js)
	if err := root.MkdirAll("conda-meta", 0o755); err != nil {
		return err
	}
	return root.WriteFile("conda-meta/history", []byte(b.String()), 0o644)
}

// settleMtimes gives every entry under root whose mtime differs from
// epoch that mtime, deepest first. Links get it themselves (not their
// targets): each entry is set through its parent directory, opened in
// root.
func settleMtimes(root *os.Root, epoch time.Time) error {
	var changed []string
	err := fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		st, err := d.Info()
		if err != nil {
			return err
		}
		if !st.ModTime().Equal(epoch) {
			changed = append(changed, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	ts := []unix.Timespec{unix.NsecToTimespec(epoch.UnixNano()), unix.NsecToTimespec(epoch.UnixNano())}
	var parent *os.File // the directory of the entries being set, kept while they share it
	defer func() {
		if parent != nil {
			parent.Close()
		}
	}()
	for _, p := range slices.Backward(changed) {
		if dir := path.Dir(p); parent == nil || parent.Name() != dir {
			if parent != nil {
				parent.Close()
			}
			if parent, err = root.Open(dir); err != nil {
				return err
			}
		}
		if err := unix.UtimesNanoAt(int(parent.Fd()), path.Base(p), ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return &os.PathError{Op: "utimensat", Path: p, Err: err}
		}
	}
	return nil
}
