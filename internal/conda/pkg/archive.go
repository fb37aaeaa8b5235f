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

	"github.com/envkit/envkit/internal/conda/fetch"
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
	// Size is a file's length; for a hard link, that of its source.
	Size int64
	// Part is the half of the package the entry belongs to: for a
	// .tar.bz2 by its path, for a .conda by its member (conda-forge puts
	// payload files under info/licenses/ in pkg-*).
	Part Parts
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
// info part is always delivered before the payload. What the archive
// decompresses to is bounded by MaxExtracted(size), counted as it streams.
func Walk(ra io.ReaderAt, size int64, name string, parts Parts, fn WalkFunc) error {
	var magic [4]byte
	if _, err := ra.ReadAt(magic[:], 0); err != nil {
		return fmt.Errorf("%s: not a conda package: %v", name, errShort(err))
	}
	b := &budget{name: name, size: size, left: MaxExtracted(size)}
	switch {
	case bytes.Equal(magic[:], []byte("PK\x03\x04")), bytes.Equal(magic[:], []byte("PK\x05\x06")):
		return walkConda(ra, size, name, parts, b, fn)
	case bytes.Equal(magic[:3], []byte("BZh")):
		return b.walk(io.NewSectionReader(ra, 0, size), fetch.Bzip2, func(d *fetch.Reader) error {
			return walkTar(d, name, partByPath, parts, fn)
		})
	}
	return fmt.Errorf("%s: not a conda package (neither a .conda zip nor a .tar.bz2)", name)
}

// MaxExtracted is the most a package archive of size bytes may
// decompress to, tar headers included: 50 times its size (real packages
// compress 3-20 times), at least 256 MiB so that small packages of
// highly compressible files pass, and at most 32 GiB (the largest
// packages, CUDA and PyTorch builds of 2-3 GB, extract to under 10 GB).
// It stops a decompression bomb from filling the disk; hard links count
// with the size of the copy they make. The archive was checked against
// its record's sha256 before, so size is the record's.
func MaxExtracted(size int64) int64 {
	const factor, floor, ceiling = 50, 256 << 20, 32 << 30
	if size > ceiling/factor {
		return ceiling
	}
	return max(size*factor, floor)
}

// budget is what is left of a package's MaxExtracted as its compressed
// streams are read one after the other.
type budget struct {
	name       string
	size, left int64
}

// walk decompresses r (of format kind) within the budget and hands the
// stream to read, turning an overrun into an error naming the package.
func (b *budget) walk(r io.Reader, kind fetch.Kind, read func(*fetch.Reader) error) error {
	d, err := fetch.NewReader(r, kind, b.left)
	if err != nil {
		return fmt.Errorf("%s: %w", b.name, err)
	}
	defer d.Close()
	err = read(d)
	b.left -= d.N()
	var le *fetch.LimitError
	if errors.As(err, &le) {
		return fmt.Errorf("%s: extracts to more than %d bytes (hard-link copies included), the most a %d-byte package may (pkg.MaxExtracted): refused as a decompression bomb", b.name, MaxExtracted(b.size), b.size)
	}
	return err
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

func walkConda(ra io.ReaderAt, size int64, name string, parts Parts, b *budget, fn WalkFunc) error {
	files, err := condaMembers(ra, size)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	var info, payload *zip.File
	for _, f := range files {
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
		if err := walkZstdMember(info, name, b, fn); err != nil {
			return err
		}
	}
	// A package may have no payload at all (info only).
	if parts&Payload != 0 && payload != nil {
		return walkZstdMember(payload, name, b, fn)
	}
	return nil
}

// condaMembers lists the zip members of a .conda, refusing a zip whose
// central directory and local headers disagree.
func condaMembers(ra io.ReaderAt, size int64) ([]*zip.File, error) {
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return nil, fmt.Errorf("reading .conda zip: %w", err)
	}
	if err := checkLocalHeaders(ra, zr.File); err != nil {
		return nil, fmt.Errorf("%w: refused (its central directory and local headers disagree: two zip readers would see different files)", err)
	}
	return zr.File, nil
}

// walkZstdMember reads one tar.zst member. CEP 35 says members are stored,
// but deflated ones exist in the wild (rattler keeps one as a test case) and
// archive/zip reads both.
func walkZstdMember(m *zip.File, name string, b *budget, fn WalkFunc) error {
	rc, err := m.Open()
	if err != nil {
		return fmt.Errorf("%s: %s: %w", name, m.Name, err)
	}
	defer rc.Close()
	// Everything in a member belongs to that member's part, even payload
	// files under info/ (conda-forge puts info/licenses/ in pkg-*).
	part := Payload
	if strings.HasPrefix(path.Base(m.Name), "info-") {
		part = Info
	}
	return b.walk(rc, fetch.Zstd, func(d *fetch.Reader) error {
		return walkTar(d, name, func(string) Parts { return part }, All, fn)
	})
}

// partByPath is the part of a .tar.bz2 entry: info/ is Info.
func partByPath(p string) Parts {
	if p == "info" || strings.HasPrefix(p, "info/") {
		return Info
	}
	return Payload
}

// walkTar delivers the entries of one tar stream whose part (by partOf)
// is among parts. A hard link is charged to the stream's limit with the
// size of its source: its copy writes that much again.
func walkTar(d *fetch.Reader, name string, partOf func(string) Parts, parts Parts, fn WalkFunc) error {
	tr := tar.NewReader(d)
	seen := map[string]int64{}
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
		if e.Type == Hardlink {
			if err := d.Charge(e.Size); err != nil {
				return err
			}
		}
		e.Part = partOf(e.Path)
		if e.Part&parts == 0 {
			continue
		}
		if err := fn(e, tr); err != nil {
			return err
		}
	}
}

// entryOf checks a tar header and turns it into an Entry (nil for entries
// that carry nothing, like the archive root "./").
func entryOf(h *tar.Header, pkgName string, seen map[string]int64) (*Entry, error) {
	p, err := CleanPath(h.Name)
	if err != nil {
		return nil, &UnsafePathError{pkgName, h.Name, err.Error()}
	}
	if p == "" {
		return nil, nil
	}
	if sparse(h) {
		// archive/tar would expand the holes: a few hundred bytes of
		// archive could write terabytes. conda-build never makes them.
		return nil, fmt.Errorf("%s: %s: sparse tar entry: refused (conda packages have none)", pkgName, p)
	}
	e := &Entry{Path: p, Mode: fs.FileMode(h.Mode) & fs.ModePerm, Size: h.Size}
	switch h.Typeflag {
	case tar.TypeReg:
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
		size, ok := seen[src]
		if !ok {
			return nil, fmt.Errorf("%s: %s: hard link to %q, which is not an earlier file in the archive", pkgName, p, h.Linkname)
		}
		e.Link, e.Size = src, size
	default:
		return nil, fmt.Errorf("%s: %s: unsupported tar entry type %q", pkgName, p, h.Typeflag)
	}
	if e.Type == File {
		seen[p] = e.Size
	}
	return e, nil
}

// sparse reports a GNU sparse file, old style (type 'S') or in PAX
// records (formats 0.0, 0.1 and 1.0 all use GNU.sparse.* keys).
func sparse(h *tar.Header) bool {
	if h.Typeflag == tar.TypeGNUSparse {
		return true
	}
	for k := range h.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
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
