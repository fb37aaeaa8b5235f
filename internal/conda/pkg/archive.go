// Package pkg reads conda package archives (CEP 35): `.tar.bz2` and `.conda`
// (a stored zip holding info-*.tar.zst and pkg-*.tar.zst). It streams their
// entries, checks every path for safety and verifies archive digests; it
// knows nothing of prefixes or linking.
package pkg

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"sync"

	"github.com/dsnet/compress/bzip2"
	"github.com/klauspost/compress/zstd"
)

// Format is an archive format.
type Format int

const (
	TarBz2 Format = iota + 1
	Conda
)

func (f Format) String() string {
	switch f {
	case TarBz2:
		return ".tar.bz2"
	case Conda:
		return ".conda"
	}
	return "unknown"
}

// Parts selects which half of a package to read.
type Parts int

const (
	// Info is the info/ directory (metadata).
	Info Parts = 1 << iota
	// Payload is everything outside info/.
	Payload
	All = Info | Payload
)

// EntryType is the kind of an archive entry.
type EntryType int

const (
	File EntryType = iota + 1
	Dir
	Symlink
	// Hardlink is a tar hard link: same content as the earlier entry Link.
	Hardlink
)

// Entry is one archive member, its path already checked and cleaned
// (relative, slash-separated, no "./" prefix, no "..").
type Entry struct {
	Path string
	Type EntryType
	// Mode holds the permission bits from the archive.
	Mode fs.FileMode
	// Link is the symlink target as stored, or the hard link's source path.
	// Early conda-package-handling wrote symlinks with an empty target
	// (Anaconda's zlib-1.2.11 .conda); see WriteEntry.
	Link string
	Size int64
}

// UnsafePathError reports an archive entry that would land (or point)
// outside the directory it is extracted into.
type UnsafePathError struct {
	Package, Path, Reason string
}

func (e *UnsafePathError) Error() string {
	return fmt.Sprintf("%s: unsafe path %q: %s", e.Package, e.Path, e.Reason)
}

// WalkFunc receives each entry in archive order; for File entries r yields
// its contents and is valid only until the function returns.
type WalkFunc func(e *Entry, r io.Reader) error

// Walk reads the archive in ra (size bytes; name is used in errors, the
// package's file name) and calls fn for every entry of the selected parts.
// The format is detected from the content, not the name. For .conda the
// info part is always delivered before the payload.
func Walk(ra io.ReaderAt, size int64, name string, parts Parts, fn WalkFunc) error {
	var magic [4]byte
	if _, err := ra.ReadAt(magic[:], 0); err != nil {
		return fmt.Errorf("%s: not a conda package: %v", name, errShort(err))
	}
	switch {
	case bytes.Equal(magic[:], []byte("PK\x03\x04")), bytes.Equal(magic[:], []byte("PK\x05\x06")):
		return walkConda(ra, size, name, parts, fn)
	case bytes.Equal(magic[:3], []byte("BZh")):
		bz, err := bzip2.NewReader(io.NewSectionReader(ra, 0, size), nil)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		defer bz.Close()
		return walkTar(bz, name, partByPath, parts, fn)
	}
	return fmt.Errorf("%s: not a conda package (neither a .conda zip nor a .tar.bz2)", name)
}

// WalkFile is Walk on a file.
func WalkFile(file string, parts Parts, fn WalkFunc) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	return Walk(f, st.Size(), path.Base(file), parts, fn)
}

func errShort(err error) error {
	if errors.Is(err, io.EOF) {
		return errors.New("file too short")
	}
	return err
}

func walkConda(ra io.ReaderAt, size int64, name string, parts Parts, fn WalkFunc) error {
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return fmt.Errorf("%s: reading .conda zip: %w", name, err)
	}
	var info, payload *zip.File
	for _, f := range zr.File {
		// By base name: some real packages (rattler's ca-certificates test
		// file) were zipped with a leading directory.
		base := path.Base(f.Name)
		switch {
		case strings.HasPrefix(base, "info-") && strings.HasSuffix(base, ".tar.zst"):
			if info != nil {
				return fmt.Errorf("%s: two info-*.tar.zst members", name)
			}
			info = f
		case strings.HasPrefix(base, "pkg-") && strings.HasSuffix(base, ".tar.zst"):
			if payload != nil {
				return fmt.Errorf("%s: two pkg-*.tar.zst members", name)
			}
			payload = f
		}
	}
	if info == nil {
		return fmt.Errorf("%s: no info-*.tar.zst member in .conda", name)
	}
	if parts&Info != 0 {
		if err := walkZstdMember(info, name, fn); err != nil {
			return err
		}
	}
	// A package may have no payload at all (info only).
	if parts&Payload != 0 && payload != nil {
		return walkZstdMember(payload, name, fn)
	}
	return nil
}

// walkZstdMember reads one tar.zst member. CEP 35 says members are stored,
// but deflated ones exist in the wild (rattler keeps one as a test case) and
// archive/zip reads both.
func walkZstdMember(m *zip.File, name string, fn WalkFunc) error {
	rc, err := m.Open()
	if err != nil {
		return fmt.Errorf("%s: %s: %w", name, m.Name, err)
	}
	defer rc.Close()
	zr, err := getDecoder(rc)
	if err != nil {
		return fmt.Errorf("%s: %s: %w", name, m.Name, err)
	}
	defer putDecoder(zr)
	// Everything in a member belongs to that member's part, even payload
	// files under info/ (conda-forge puts info/licenses/ in pkg-*).
	part := Payload
	if strings.HasPrefix(path.Base(m.Name), "info-") {
		part = Info
	}
	return walkTar(zr, name, func(string) Parts { return part }, All, fn)
}

// idleDecoders keeps zstd decoders for reuse. A decoder allocates the
// frame's window (+1 MiB in low-memory mode) up front, and early .conda
// files declare 128 MiB windows even when tiny (Anaconda's zlib): clearing
// that per archive cost a second per package in profiles. A plain list,
// not a sync.Pool, because the garbage collector empties pools and these
// large allocations trigger collections.
var (
	idleMu       sync.Mutex
	idleDecoders []*zstd.Decoder
)

const maxIdleDecoders = 2

func getDecoder(r io.Reader) (*zstd.Decoder, error) {
	idleMu.Lock()
	var d *zstd.Decoder
	if n := len(idleDecoders); n > 0 {
		d, idleDecoders = idleDecoders[n-1], idleDecoders[:n-1]
	}
	idleMu.Unlock()
	if d != nil {
		if err := d.Reset(r); err != nil {
			return nil, err
		}
		return d, nil
	}
	// One goroutine per decoder: members are read strictly in order.
	return zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
}

func putDecoder(d *zstd.Decoder) {
	if d.Reset(nil) != nil {
		d.Close()
		return
	}
	idleMu.Lock()
	defer idleMu.Unlock()
	if len(idleDecoders) < maxIdleDecoders {
		idleDecoders = append(idleDecoders, d)
		return
	}
	d.Close()
}

// partByPath is the part of a .tar.bz2 entry: info/ is Info.
func partByPath(p string) Parts {
	if p == "info" || strings.HasPrefix(p, "info/") {
		return Info
	}
	return Payload
}

// walkTar delivers the entries of one tar stream whose part (by partOf)
// is among parts.
func walkTar(r io.Reader, name string, partOf func(string) Parts, parts Parts, fn WalkFunc) error {
	tr := tar.NewReader(r)
	seen := map[string]bool{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: reading tar: %w", name, err)
		}
		e, err := entryOf(h, name, seen)
		if err != nil {
			return err
		}
		if e == nil {
			continue
		}
		if partOf(e.Path)&parts == 0 {
			continue
		}
		if err := fn(e, tr); err != nil {
			return err
		}
	}
}

// entryOf checks a tar header and turns it into an Entry (nil for entries
// that carry nothing, like the archive root "./").
func entryOf(h *tar.Header, pkgName string, seen map[string]bool) (*Entry, error) {
	p, err := CleanPath(h.Name)
	if err != nil {
		return nil, &UnsafePathError{pkgName, h.Name, err.Error()}
	}
	if p == "" {
		return nil, nil
	}
	e := &Entry{Path: p, Mode: fs.FileMode(h.Mode) & fs.ModePerm, Size: h.Size}
	switch h.Typeflag {
	case tar.TypeReg, tar.TypeGNUSparse: // the reader expands sparse files
		e.Type = File
	case tar.TypeDir:
		e.Type = Dir
	case tar.TypeSymlink:
		e.Type = Symlink
		e.Link = h.Linkname
		if err := checkSymlink(p, h.Linkname); err != nil {
			return nil, &UnsafePathError{pkgName, h.Name, err.Error()}
		}
	case tar.TypeLink:
		e.Type = Hardlink
		src, err := CleanPath(h.Linkname)
		if err != nil || src == "" {
			return nil, &UnsafePathError{pkgName, h.Name, fmt.Sprintf("hard link to %q", h.Linkname)}
		}
		if !seen[src] {
			return nil, fmt.Errorf("%s: %s: hard link to %q, which is not an earlier file in the archive", pkgName, p, h.Linkname)
		}
		e.Link = src
	default:
		return nil, fmt.Errorf("%s: %s: unsupported tar entry type %q", pkgName, p, h.Typeflag)
	}
	if e.Type == File {
		seen[p] = true
	}
	return e, nil
}

// CleanPath validates an archive path and returns it relative and cleaned
// ("" for the root itself). Absolute paths, ".." components, backslashes
// and NUL bytes are refused: each could place a file outside the prefix.
func CleanPath(p string) (string, error) {
	if p == "" {
		return "", errors.New("empty path")
	}
	if strings.HasPrefix(p, "/") {
		return "", errors.New("absolute path")
	}
	if strings.ContainsAny(p, "\\\x00") {
		return "", errors.New("backslash or NUL in path")
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return "", errors.New(`".." component`)
		}
	}
	c := path.Clean(p)
	if c == "." {
		return "", nil
	}
	return c, nil
}

// checkSymlink refuses a link at p whose target, resolved lexically from
// p's directory, leaves the root.
func checkSymlink(p, target string) error {
	if strings.HasPrefix(target, "/") {
		return fmt.Errorf("symlink to absolute path %q", target)
	}
	resolved := path.Join(path.Dir(p), target)
	if resolved == ".." || strings.HasPrefix(resolved, "../") {
		return fmt.Errorf("symlink to %q points outside the prefix", target)
	}
	return nil
}
