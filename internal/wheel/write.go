package wheel

import (
	"archive/zip"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"time"
)

// write puts members under prefix, then a RECORD (at recordDest) listing
// them as staged: every file is first written to a staging directory
// inside the prefix (same filesystem) — archive members streamed, each
// checked against its RECORD entry on the way — then renamed into place;
// if any step fails, what was moved and the directories made are removed
// again. Everything inside the prefix goes through an os.Root: a link in
// the prefix that leaves it (planted by a package, or by hand) fails the
// install instead of taking files out.
func write(prefix string, members []member, sitePackages, recordDest string, mtime time.Time) (_ []string, err error) {
	seen := map[string]bool{recordDest: true}
	for _, m := range members {
		if seen[m.dest] {
			return nil, fmt.Errorf("%s: written twice (archive member and generated file?)", m.dest)
		}
		seen[m.dest] = true
	}
	var outer []string // the prefix and its parents, when this made them
	if err := mkdirs(prefix, &outer); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			for _, d := range slices.Backward(outer) {
				os.Remove(d)
			}
		}
	}()
	root, err := os.OpenRoot(prefix)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	var made []string // directories created inside the prefix, parents first
	var moved []string
	defer func() {
		if err == nil {
			return
		}
		for _, p := range slices.Backward(moved) {
			root.Remove(p)
		}
		for _, d := range slices.Backward(made) {
			root.Remove(d)
		}
	}()
	stage := ".envkit-wheel-" + rand.Text()
	if err := root.Mkdir(stage, 0o700); err != nil {
		return nil, err
	}
	defer root.RemoveAll(stage)
	buf := make([]byte, 256<<10) // one copy buffer for every member
	for i := range members {
		if err := stageMember(root, path.Join(stage, fmt.Sprint(i)), &members[i], mtime, buf); err != nil {
			return nil, err
		}
	}
	rec := member{dest: recordDest}
	rec.data = record(members, sitePackages, recordDest)
	members = append(members, rec)
	if err := stageMember(root, path.Join(stage, fmt.Sprint(len(members)-1)), &members[len(members)-1], mtime, buf); err != nil {
		return nil, err
	}
	var out []string
	for i, m := range members {
		if err := mkdirsIn(root, path.Dir(m.dest), &made); err != nil {
			return nil, err
		}
		if err := root.Rename(path.Join(stage, fmt.Sprint(i)), m.dest); err != nil {
			return nil, err
		}
		moved = append(moved, m.dest)
		out = append(out, m.dest)
	}
	if !mtime.IsZero() {
		for _, d := range made {
			if err := root.Chtimes(d, mtime, mtime); err != nil {
				return nil, err
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

// stageMember writes m to tmp under root (its data, or its archive member
// checked against RECORD while it streams) and records the staged sha256
// and size.
func stageMember(root *os.Root, tmp string, m *member, mtime time.Time, buf []byte) error {
	mode := os.FileMode(0o644)
	if m.exec {
		mode = 0o755
	}
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	h := sha256.New()
	var n int64
	if m.src != nil {
		n, err = copyMember(io.MultiWriter(f, h), m.src, buf)
	} else {
		var k int
		k, err = io.MultiWriter(f, h).Write(m.data)
		n = int64(k)
	}
	// OpenFile's mode is masked by the umask; the layer must not be.
	if err == nil {
		err = f.Chmod(mode)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	copy(m.sum[:], h.Sum(nil))
	m.size = n
	if m.src != nil {
		if err := m.want.checkSum(m.src.Name, m.sum, n); err != nil {
			return err
		}
	}
	if !mtime.IsZero() {
		return root.Chtimes(tmp, mtime, mtime)
	}
	return nil
}

// copyMember streams an archive member (its CRC-32 is checked at the end
// by archive/zip).
func copyMember(w io.Writer, f *zip.File, buf []byte) (int64, error) {
	rc, err := f.Open()
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	return io.CopyBuffer(w, rc, buf)
}

// mkdirs is os.MkdirAll that records the directories it created (for
// the prefix itself, which the caller names).
func mkdirs(dir string, made *[]string) error {
	if fi, err := os.Stat(dir); err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%s: not a directory", dir)
		}
		return nil
	}
	if err := mkdirs(filepath.Dir(dir), made); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	*made = append(*made, dir)
	return nil
}

// mkdirsIn is mkdirs inside root: a link on the way is followed only while
// it stays inside.
func mkdirsIn(root *os.Root, dir string, made *[]string) error {
	if dir == "." {
		return nil
	}
	if fi, err := root.Stat(dir); err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%s: not a directory", dir)
		}
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := mkdirsIn(root, path.Dir(dir), made); err != nil {
		return err
	}
	if err := root.Mkdir(dir, 0o755); err != nil {
		return err
	}
	*made = append(*made, dir)
	return nil
}
