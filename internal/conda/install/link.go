// Package install links conda packages into a prefix (CEP 34): files
// relocated from their placeholder to the prefix, noarch: python files
// moved under site-packages with their entry points, conda-meta records
// written; and, once all packages are in, it runs the link scripts,
// compiles .pyc and writes conda-meta/history (Finalize).
package install

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/envkit/envkit/internal/conda/pkg"
	"github.com/envkit/envkit/internal/conda/repodata"
)

// Python describes the environment's python, which noarch: python
// packages need.
type Python struct {
	// Version is "X.Y".
	Version string
	// SitePackages is the site-packages directory relative to the prefix;
	// empty means lib/pythonX.Y/site-packages (CEP 17 lets python's
	// index.json name another, e.g. lib/python3.13t/site-packages).
	SitePackages string
}

func (p *Python) sitePackages() string {
	if p.SitePackages != "" {
		return strings.Trim(p.SitePackages, "/")
	}
	return "lib/python" + p.Version + "/site-packages"
}

// Options say how to link one package.
type Options struct {
	// Prefix is the absolute path the environment will have; it replaces
	// placeholders and goes into entry-point shebangs.
	Prefix string
	// Record is the channel's record of the package (from a lock or
	// repodata), or nil to use info/index.json alone. Its sha256/md5, when
	// set, are verified before anything is written.
	Record *repodata.Record
	// RequestedSpec goes into the conda-meta record.
	RequestedSpec string
	// Python is the environment's python, nil when it has none.
	Python *Python
}

// infoFiles are the info/ files linking reads; the rest of info/ is not
// installed (conda keeps it in its package cache only).
var infoFiles = map[string]bool{
	"info/index.json": true, "info/paths.json": true, "info/files": true,
	"info/has_prefix": true, "info/no_link": true, "info/link.json": true,
}

// maxInfoFile bounds what one metadata file may take in memory.
const maxInfoFile = 64 << 20

// Link verifies the archive and writes its files into dest, the directory
// that holds the prefix's contents (the prefix itself for a host install,
// or DIR/PREFIX for a BuildKit layer), with placeholders replaced by
// opts.Prefix, plus conda-meta/<name>-<version>-<build>.json. It runs no
// script and sets no mtimes (the caller owns the whole tree and fixes them
// once). A file that already exists at a target path is replaced.
func Link(archive, dest string, opts Options) (*PrefixRecord, error) {
	recs, err := LinkAll([]Package{{Archive: archive, Options: opts}}, dest)
	if err != nil {
		return nil, err
	}
	return recs[0], nil
}

// Package is one archive to link and how.
type Package struct {
	Archive string
	Options Options
}

// LinkAll links several packages into dest in order, as Link does, but
// verifies every archive against its record before it writes anything:
// a bad download anywhere in the list leaves dest untouched. A later
// package overwrites the paths it shares with an earlier one.
func LinkAll(pkgs []Package, dest string) ([]*PrefixRecord, error) {
	verified := make([]hashedArchive, len(pkgs))
	for i, p := range pkgs {
		digests, size, err := hashFile(p.Archive)
		if err != nil {
			return nil, err
		}
		if rec := p.Options.Record; rec != nil {
			want := pkg.Digests{SHA256: rec.SHA256, MD5: rec.MD5}
			if err := want.Match(filepath.Base(p.Archive), digests); err != nil {
				return nil, err
			}
		}
		verified[i] = hashedArchive{p.Archive, digests, size}
	}
	recs := make([]*PrefixRecord, len(pkgs))
	for i, p := range pkgs {
		r, err := linkVerified(verified[i], dest, p.Options)
		if err != nil {
			return nil, err
		}
		recs[i] = r
	}
	return recs, nil
}

// hashedArchive is an archive with the digests it was verified by.
type hashedArchive struct {
	path    string
	digests pkg.Digests
	size    int64
}

// linkVerified links a verified archive in one read of it when the info
// files linking reads come before its payload, as conda-build and
// conda-package-handling write them (a .conda always: its info member is
// read first): the payload is linked as it streams, with the info read
// up to its first entry. An info file that turns up later (a tar may
// hold it anywhere) is read too; if the info then says something else,
// what the pass wrote is taken back and the payload read again, as two
// passes would have done from the start.
func linkVerified(a hashedArchive, dest string, opts Options) (*PrefixRecord, error) {
	name := filepath.Base(a.path)
	meta := map[string][]byte{}
	var early map[string][]byte // meta at the first payload entry, nil before it
	var spec *linker            // linking the payload as it streams, nil when early was not enough
	err := pkg.WalkFile(a.path, pkg.All, func(e *pkg.Entry, r io.Reader) error {
		if e.Part == pkg.Info {
			return readInfoFile(name, meta, e, r)
		}
		if early == nil {
			early = maps.Clone(meta) // not nil: meta is not
			if l, err := newLinker(a, dest, opts, early); err == nil {
				spec, l.undo = l, &undoLog{seen: map[string]bool{}}
			}
		}
		if spec == nil {
			return nil // read again once all of info/ is known
		}
		return spec.entry(e, r)
	})
	if spec != nil {
		defer spec.root.Close()
	}
	if err != nil {
		return nil, err
	}
	if spec != nil && sameInfo(name, early, meta) {
		return spec.finish()
	}
	l, err := newLinker(a, dest, opts, meta)
	if err != nil {
		return nil, err
	}
	defer l.root.Close()
	if spec != nil {
		if err := spec.takeBack(l); err != nil {
			return nil, err
		}
	}
	if err := pkg.WalkFile(a.path, pkg.Payload, l.entry); err != nil {
		return nil, err
	}
	return l.finish()
}

// readInfoFile keeps e in meta when it is one of the info files linking
// reads; the last of a name wins, as it would on disk.
func readInfoFile(name string, meta map[string][]byte, e *pkg.Entry, r io.Reader) error {
	if e.Type != pkg.File || !infoFiles[e.Path] {
		return nil
	}
	b, err := io.ReadAll(io.LimitReader(r, maxInfoFile+1))
	if err != nil {
		return err
	}
	if len(b) > maxInfoFile {
		return fmt.Errorf("%s: %s is larger than %d bytes", name, e.Path, maxInfoFile)
	}
	meta[e.Path] = b
	return nil
}

// sameInfo reports whether the info files read before the first payload
// entry (early) say for linking what all of them (meta) say.
func sameInfo(name string, early, meta map[string][]byte) bool {
	if maps.EqualFunc(early, meta, bytes.Equal) {
		return true
	}
	a, errA := readInfo(name, early)
	b, errB := readInfo(name, meta)
	return errA == nil && errB == nil && reflect.DeepEqual(a, b)
}

// newLinker prepares the linking of a package whose info files are meta,
// opening dest (made when missing) as the root everything is written in.
func newLinker(a hashedArchive, dest string, opts Options, meta map[string][]byte) (*linker, error) {
	name := filepath.Base(a.path)
	in, err := readInfo(name, meta)
	if err != nil {
		return nil, err
	}
	record, err := newPrefixRecord(in.index, opts.Record)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	record.MD5, record.SHA256, record.Size = a.digests.MD5, a.digests.SHA256, a.size
	record.RequestedSpec = opts.RequestedSpec
	record.Noarch = in.noarch
	if record.Filename == "" {
		record.Filename = name
	}
	l := &linker{name: name, in: in, opts: opts, record: record, archive: a.path, rewritten: map[string]bool{}, originals: map[string][]byte{},
		allowance: &allowance{size: a.size, left: pkg.MaxExtracted(a.size)},
		byPath:    map[string]*PathEntry{}, repaired: linkTargets(in.paths), done: map[string]bool{}}
	for i := range in.paths {
		l.byPath[in.paths[i].Path] = &in.paths[i]
	}
	if in.noarch == "python" {
		if opts.Python == nil || opts.Python.Version == "" {
			return nil, fmt.Errorf("%s: a noarch: python package needs the environment's python version (--python X.Y)", name)
		}
		l.sitePackages = opts.Python.sitePackages()
	}
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return nil, err
	}
	if l.root, err = os.OpenRoot(dest); err != nil {
		return nil, err
	}
	return l, nil
}

// finish completes the link once every payload entry is in: the links
// checked again, the directories and files paths.json lists, entry
// points and the conda-meta record.
func (l *linker) finish() (*PrefixRecord, error) {
	if err := l.finishPayload(); err != nil {
		return nil, err
	}
	if err := l.writeEntryPoints(); err != nil {
		return nil, err
	}
	if err := writeRecord(l.root, l.record); err != nil {
		return nil, err
	}
	return l.record, nil
}

func hashFile(file string) (pkg.Digests, int64, error) {
	f, err := os.Open(file)
	if err != nil {
		return pkg.Digests{}, 0, err
	}
	defer f.Close()
	h := pkg.NewHasher()
	if _, err := io.Copy(h, f); err != nil {
		return pkg.Digests{}, 0, fmt.Errorf("%s: %w", filepath.Base(file), err)
	}
	return h.Sums(), h.Size(), nil
}

type linker struct {
	name         string
	in           *info
	opts         Options
	record       *PrefixRecord
	root         *os.Root
	sitePackages string
	// links are the symlinks written, checked again once all are in.
	links []string
	// archive is the package file; rewritten are its paths that prefix
	// replacement changed, originals the kept bytes of some (see original).
	archive   string
	rewritten map[string]bool
	originals map[string][]byte
	keptBytes int64
	// allowance bounds the bytes of the files written.
	allowance *allowance
	// byPath are the entries of paths.json by path, repaired the targets
	// of links stored without one (linkTargets), done the paths linked.
	byPath   map[string]*PathEntry
	repaired map[string]string
	done     map[string]bool
	// listed is the file list made from the payload when the package has
	// none (info.fromListing).
	listed []PathEntry
	// undo, when set, records what linking writes, for takeBack.
	undo *undoLog
}

// allowance is what a package may still write: pkg.MaxExtracted of its
// size, the bound on what its archive decompresses to, also bounds what
// linking makes of it, where prefix replacement could get around it (a
// one-byte placeholder over a file of them multiplies the file by the
// prefix's length).
type allowance struct {
	size, left int64
}

func (a *allowance) Write(p []byte) (int, error) {
	if int64(len(p)) > a.left {
		return 0, fmt.Errorf("the package writes more than %d bytes with its prefix placeholders replaced, the most a %d-byte package may (pkg.MaxExtracted): refused as a bomb", pkg.MaxExtracted(a.size), a.size)
	}
	a.left -= int64(len(p))
	return len(p), nil
}

// write is pkg.WriteEntry, whose os.Root refuses to go through a link
// that leaves the prefix; the error then names that link.
func (l *linker) write(e *pkg.Entry, r io.Reader) error {
	return l.explain(e.Path, pkg.WriteEntry(l.root, e, r))
}

// explain replaces err, a failure to write p, by the link on p's way that
// leaves the prefix when there is one.
func (l *linker) explain(p string, err error) error {
	if err != nil {
		if le := leavingLinkOn(l.root, p); le != nil {
			return le
		}
	}
	return err
}

// recheckLinks resolves the package's links again now that all its
// entries are in: a later entry can turn an earlier link's target into
// one that leaves (y -> x/.., then x -> .).
func (l *linker) recheckLinks() error {
	for _, p := range l.links {
		t, err := l.root.Readlink(p)
		if err != nil {
			return fmt.Errorf("%s: %s: %w", l.name, p, err)
		}
		if _, err := resolveLink(l.root, p, t); err != nil {
			return fmt.Errorf("%s: %w", l.name, err)
		}
	}
	return nil
}

// target is where an archive path lands in the prefix (noarch: python
// relocation).
func (l *linker) target(p string) string {
	if l.sitePackages == "" {
		return p
	}
	switch {
	case strings.HasPrefix(p, "site-packages/"):
		return l.sitePackages + strings.TrimPrefix(p, "site-packages")
	case strings.HasPrefix(p, "python-scripts/"):
		return "bin" + strings.TrimPrefix(p, "python-scripts")
	}
	return p
}

// entry links one payload entry of the archive (a pkg.WalkFunc).
func (l *linker) entry(e *pkg.Entry, r io.Reader) error {
	pe := l.byPath[e.Path]
	if pe == nil {
		if !l.in.fromListing || e.Type == pkg.Dir {
			return nil // not part of the package's file list
		}
		pe = &PathEntry{Path: e.Path, PathType: HardLink}
		if e.Type == pkg.Symlink {
			pe.PathType = SoftLink
		}
		l.listed = append(l.listed, *pe)
	}
	l.done[e.Path] = true
	tgt := l.target(e.Path)
	if l.undo != nil {
		l.undo.note(l.root, tgt)
	}
	if err := l.linkEntry(e, r, pe, tgt, l.repaired); err != nil {
		return fmt.Errorf("%s: %s: %w", l.name, e.Path, err)
	}
	return nil
}

func (l *linker) finishPayload() error {
	if err := l.recheckLinks(); err != nil {
		return err
	}
	if l.in.fromListing {
		l.in.paths = l.listed
	}
	for i := range l.in.paths {
		pe := &l.in.paths[i]
		switch {
		case pe.PathType == Directory:
			if err := l.explain(l.target(pe.Path), l.root.MkdirAll(l.target(pe.Path), 0o755)); err != nil {
				return fmt.Errorf("%s: %s: %w", l.name, pe.Path, err)
			}
		case !l.done[pe.Path]:
			return fmt.Errorf("%s: %s is listed in the package's paths but missing from the archive", l.name, pe.Path)
		}
		out := *pe
		out.Path = l.target(pe.Path)
		l.record.Files = append(l.record.Files, out.Path)
		l.record.PathsData.Paths = append(l.record.PathsData.Paths, out)
	}
	l.record.PathsData.PathsVersion = 1
	return nil
}

// undoLog is what a pass that linked before all of info/ was read wrote:
// the paths it created (directories before what they hold) and the ones
// that were there before it.
type undoLog struct {
	made, replaced []string
	seen           map[string]bool
}

// note records tgt and the directories leading to it before tgt is
// written. A lookup that fails otherwise than with "not there" records
// nothing: the write fails the same way.
func (u *undoLog) note(root *os.Root, tgt string) {
	var todo []string
	for p := tgt; p != "." && !u.seen[p]; p = path.Dir(p) {
		todo = append(todo, p)
	}
	for i := len(todo) - 1; i >= 0; i-- {
		p := todo[i]
		u.seen[p] = true
		st, err := root.Lstat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			u.made = append(u.made, p)
		case err == nil && i == 0 && !st.IsDir():
			// Linking replaces files and links; a directory stays.
			u.replaced = append(u.replaced, p)
		}
	}
}

// takeBack removes what l, linking with info that turned out incomplete,
// wrote, before again links the package with all of it. A path l
// replaced comes back only if again writes it too: another package's
// file that l wrote over and again does not is refused.
func (l *linker) takeBack(again *linker) error {
	keep := map[string]bool{}
	for _, pe := range again.in.paths {
		keep[again.target(pe.Path)] = true
	}
	if again.in.fromListing {
		for p := range l.done {
			keep[again.target(p)] = true
		}
	}
	for _, p := range l.undo.replaced {
		if !keep[p] {
			return fmt.Errorf("%s: info files after its payload change where its files go, and linking wrote %s over what was there before, which it does not install: repack the archive with info/ first (cph transmute, or conda-build)", l.name, p)
		}
	}
	for i := len(l.undo.made) - 1; i >= 0; i-- {
		if err := l.root.Remove(l.undo.made[i]); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s: taking back %s: %w", l.name, l.undo.made[i], err)
		}
	}
	return nil
}

func (l *linker) linkEntry(e *pkg.Entry, r io.Reader, pe *PathEntry, tgt string, repaired map[string]string) error {
	if pe.PathType == SoftLink && (e.Type == pkg.Symlink && e.Link == "" || e.Type == pkg.File && e.Size == 0) {
		t, ok := repaired[pe.Path]
		if !ok {
			return fmt.Errorf("symlink without a target, and none can be derived from paths.json")
		}
		e = &pkg.Entry{Path: e.Path, Type: pkg.Symlink, Link: t}
	}
	switch e.Type {
	case pkg.Dir:
		return l.explain(tgt, l.root.MkdirAll(tgt, 0o755))
	case pkg.Symlink:
		if _, err := resolveLink(l.root, tgt, e.Link); err != nil {
			return err
		}
		l.links = append(l.links, tgt)
		return l.write(&pkg.Entry{Path: tgt, Type: pkg.Symlink, Link: e.Link}, nil)
	case pkg.Hardlink:
		src, err := l.original(e.Link)
		if err != nil {
			return err
		}
		defer src.Close()
		r = src
	}
	mode := e.Mode
	if mode == 0 {
		mode = 0o644
	}
	if pe.PrefixPlaceholder == "" {
		h := sha256.New()
		err := l.write(&pkg.Entry{Path: tgt, Type: pkg.File, Mode: mode}, io.TeeReader(r, io.MultiWriter(h, l.allowance)))
		pe.SHA256InPrefix = hex.EncodeToString(h.Sum(nil))
		return err
	}
	// A later hard link to this file needs its bytes before replacement:
	// small ones are kept, a large one is read from the archive again.
	l.rewritten[e.Path] = true
	kept := &keepUpTo{max: min(maxKeptOriginal, maxKeptOriginals-l.keptBytes), over: e.Size > maxKeptOriginal}
	r = io.TeeReader(r, kept)
	sum, err := l.writeReplaced(tgt, mode, func(w io.Writer) error {
		if pe.FileMode == "binary" {
			return ReplaceBinary(w, r, pe.PrefixPlaceholder, l.opts.Prefix)
		}
		return ReplaceText(w, r, pe.PrefixPlaceholder, l.opts.Prefix)
	})
	if err != nil {
		return err
	}
	if !kept.over {
		l.originals[e.Path] = kept.buf.Bytes()
		l.keptBytes += int64(kept.buf.Len())
	}
	pe.SHA256InPrefix = sum
	return nil
}

// Originals of files rewritten by prefix replacement that linking keeps
// in memory for hard links to them; beyond, the archive is read again.
const (
	maxKeptOriginal  = 8 << 20
	maxKeptOriginals = 64 << 20
)

// keepUpTo keeps what is written to it while that is at most max bytes.
type keepUpTo struct {
	buf  bytes.Buffer
	max  int64
	over bool
}

func (k *keepUpTo) Write(p []byte) (int, error) {
	switch {
	case k.over:
	case int64(k.buf.Len()+len(p)) > k.max:
		k.over = true
		k.buf = bytes.Buffer{}
	default:
		k.buf.Write(p)
	}
	return len(p), nil
}

// original opens the bytes the archive has at p, an earlier file of the
// archive that a hard link names: the file as written, unless prefix
// replacement rewrote it.
func (l *linker) original(p string) (io.ReadCloser, error) {
	if !l.rewritten[p] {
		return l.root.Open(l.target(p))
	}
	if b, ok := l.originals[p]; ok {
		return io.NopCloser(bytes.NewReader(b)), nil
	}
	// Spooled to a temporary file in the prefix, removed on Close.
	tmp, err := l.tempFile(".")
	if err != nil {
		return nil, err
	}
	found := errors.New("found")
	err = pkg.WalkFile(l.archive, pkg.Payload, func(e *pkg.Entry, r io.Reader) error {
		if e.Path != p || e.Type != pkg.File {
			return nil
		}
		if _, err := io.Copy(tmp, r); err != nil {
			return err
		}
		return found
	})
	if err == found {
		_, err = tmp.Seek(0, io.SeekStart)
	} else if err == nil {
		err = fmt.Errorf("hard link to %s, which the archive does not hold", p)
	}
	if err != nil {
		tmp.Close()
		return nil, err
	}
	return tmp, nil
}

// tempFile creates an empty file in dir under the root, removed when it is
// closed.
func (l *linker) tempFile(dir string) (*removedOnClose, error) {
	name := path.Join(dir, ".envkit-link-"+rand.Text())
	f, err := l.root.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, l.explain(name, err)
	}
	return &removedOnClose{f, l.root, name}, nil
}

type removedOnClose struct {
	*os.File
	root *os.Root
	name string
}

func (f *removedOnClose) Close() error {
	err := f.File.Close()
	f.root.Remove(f.name)
	return err
}

// writeReplaced writes p with what fill writes, through a temporary file
// beside it renamed into place: a failure (a prefix that does not fit, a
// bad archive, a full disk) leaves nothing, not half a file. It returns
// the hex sha256 of what was written.
func (l *linker) writeReplaced(p string, mode os.FileMode, fill func(io.Writer) error) (string, error) {
	dir := path.Dir(p)
	if err := l.explain(p, l.root.MkdirAll(dir, 0o755)); err != nil {
		return "", err
	}
	tmp, err := l.tempFile(dir)
	if err != nil {
		return "", err
	}
	defer tmp.Close()
	h := sha256.New()
	if err := fill(io.MultiWriter(tmp, h, l.allowance)); err != nil {
		return "", err
	}
	if err := tmp.Chmod(mode); err != nil {
		return "", err
	}
	if err := l.root.Rename(tmp.name, p); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// writeEntryPoints writes bin/<command> for each "command = module:func"
// of a noarch: python package's link.json, with conda's script template.
func (l *linker) writeEntryPoints() error {
	if l.sitePackages == "" {
		return nil
	}
	for _, ep := range l.in.entryPoints {
		cmd, module, fn, err := parseEntryPoint(ep)
		if err != nil {
			return fmt.Errorf("%s: info/link.json: %w", l.name, err)
		}
		python := path.Join(l.opts.Prefix, "bin", "python"+l.opts.Python.Version)
		script := []byte(entryPointShebang(python) + "\n" + entryPointScript(module, fn))
		tgt := path.Join("bin", cmd)
		if err := l.write(&pkg.Entry{Path: tgt, Type: pkg.File, Mode: 0o755}, bytes.NewReader(script)); err != nil {
			return fmt.Errorf("%s: entry point %s: %w", l.name, cmd, err)
		}
		sum := sha256.Sum256(script)
		n := int64(len(script))
		l.record.Files = append(l.record.Files, tgt)
		l.record.PathsData.Paths = append(l.record.PathsData.Paths, PathEntry{
			Path: tgt, PathType: UnixPythonEntryPoint, SHA256InPrefix: hex.EncodeToString(sum[:]), SizeInBytes: &n,
		})
	}
	return nil
}

func parseEntryPoint(ep string) (cmd, module, fn string, err error) {
	cmd, target, ok := strings.Cut(ep, "=")
	module, fn, ok2 := strings.Cut(strings.TrimSpace(target), ":")
	cmd, module, fn = strings.TrimSpace(cmd), strings.TrimSpace(module), strings.TrimSpace(fn)
	if !ok || !ok2 || cmd == "" || module == "" || fn == "" || cmd == "." || cmd == ".." || strings.ContainsAny(cmd, "/\\\x00") {
		return "", "", "", fmt.Errorf("entry point %q is not \"command = module:function\"", ep)
	}
	return cmd, module, fn, nil
}

// entryPointScript is conda's template (conda/core/portability.py
// generate_shebang_for_entry_point and create_python_entry_point).
func entryPointScript(module, fn string) string {
	head, _, _ := strings.Cut(fn, ".")
	return "# -*- coding: utf-8 -*-\n" +
		"import re\n" +
		"import sys\n\n" +
		"from " + module + " import " + head + "\n\n" +
		"if __name__ == '__main__':\n" +
		"    sys.argv[0] = re.sub(r'(-script\\.pyw?|\\.exe)?$', '', sys.argv[0])\n" +
		"    sys.exit(" + fn + "())\n"
}
