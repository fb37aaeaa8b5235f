package pkg

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Extract writes every entry of the archive file into dir, which must not
// exist yet: it is built as a temporary sibling and renamed at the end, so
// a refused or broken package leaves nothing behind. Files get the
// archive's permission bits and mtime mtime (for reproducible output).
func Extract(file, dir string, mtime time.Time) error {
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return err
	}
	err = os.Chmod(tmp, 0o755) // MkdirTemp makes it 0700
	if err == nil {
		err = extractInto(file, tmp, mtime)
	}
	if err != nil {
		os.RemoveAll(tmp)
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	return nil
}

func extractInto(file, dir string, mtime time.Time) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	err = WalkFile(file, All, func(e *Entry, r io.Reader) error {
		if err := WriteEntry(root, e, r); err != nil {
			return fmt.Errorf("%s: %s: %w", filepath.Base(file), e.Path, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return SetTreeMtime(dir, mtime)
}

// SetTreeMtime sets the mtime of everything under dir (dir included) to t,
// deepest first so that no later change moves a directory's time again.
func SetTreeMtime(dir string, t time.Time) error {
	var all []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		all = append(all, p)
		return nil
	})
	if err != nil {
		return err
	}
	for i := len(all) - 1; i >= 0; i-- {
		if err := SetMtime(all[i], "", t); err != nil {
			return err
		}
	}
	return nil
}

// WriteEntry creates e under root (parents as needed, mode 0755), reading
// a file's contents from r. An existing file or link at the path is
// replaced. root confines every operation, symlinks included.
func WriteEntry(root *os.Root, e *Entry, r io.Reader) error {
	if dir := filepath.Dir(e.Path); dir != "." {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	switch e.Type {
	case Dir:
		if err := root.MkdirAll(e.Path, 0o755); err != nil {
			return err
		}
		return root.Chmod(e.Path, dirMode(e))
	case Symlink:
		if e.Link == "" {
			// No system can create a link to nothing; tar, and so the
			// .tar.bz2 of the same zlib build, stores an empty file.
			return writeFile(root, e.Path, e.Mode, strings.NewReader(""))
		}
		removeNonDir(root, e.Path)
		return root.Symlink(e.Link, e.Path)
	case Hardlink:
		// A copy rather than a link: layers and prefixes must not share
		// inodes with anything the installer later patches.
		src, err := root.Open(e.Link)
		if err != nil {
			return err
		}
		defer src.Close()
		return writeFile(root, e.Path, e.Mode, src)
	default:
		return writeFile(root, e.Path, e.Mode, r)
	}
}

func dirMode(e *Entry) os.FileMode {
	if e.Mode == 0 {
		return 0o755
	}
	return e.Mode | 0o700
}

func removeNonDir(root *os.Root, p string) {
	if st, err := root.Lstat(p); err == nil && !st.IsDir() {
		root.Remove(p)
	}
}

func writeFile(root *os.Root, p string, mode os.FileMode, r io.Reader) error {
	removeNonDir(root, p)
	f, err := root.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// SetMtime sets the access and modification times of dir/rel to t without
// following a final symlink (links get a fixed time too, for identical
// trees).
func SetMtime(dir, rel string, t time.Time) error {
	ts := unix.NsecToTimespec(t.UnixNano())
	return unix.UtimesNanoAt(unix.AT_FDCWD, filepath.Join(dir, rel), []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW)
}
