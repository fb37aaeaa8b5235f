package wheel

import (
	"archive/zip"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// write puts members under prefix, then a RECORD (at recordDest) listing
// them as staged: every file is first written to a staging directory
// inside the prefix (same filesystem) — archive members streamed, each
// checked against its RECORD entry on the way — then renamed into place;
// if any step fails, what was moved and the directories made are removed
// again.
func write(prefix string, members []member, sitePackages, recordDest string, mtime time.Time) (_ []string, err error) {
	seen := map[string]bool{recordDest: true}
	for _, m := range members {
		if seen[m.dest] {
			return nil, fmt.Errorf("%s: written twice (archive member and generated file?)", m.dest)
		}
		seen[m.dest] = true
	}
	var made []string // directories created, parents first
	var moved []string
	defer func() {
		if err == nil {
			return
		}
		for _, p := range slices.Backward(moved) {
			os.Remove(p)
		}
		for _, d := range slices.Backward(made) {
			os.Remove(d)
		}
	}()
	if err := mkdirs(prefix, &made); err != nil {
		return nil, err
	}
	stage, err := os.MkdirTemp(prefix, ".envkit-wheel-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(stage)
	buf := make([]byte, 256<<10) // one copy buffer for every member
	for i := range members {
		if err := stageMember(filepath.Join(stage, fmt.Sprint(i)), &members[i], mtime, buf); err != nil {
			return nil, err
		}
	}
	rec := member{dest: recordDest}
	rec.data = record(members, sitePackages, recordDest)
	members = append(members, rec)
	if err := stageMember(filepath.Join(stage, fmt.Sprint(len(members)-1)), &members[len(members)-1], mtime, buf); err != nil {
		return nil, err
	}
	var out []string
	for i, m := range members {
		dest := filepath.Join(prefix, filepath.FromSlash(m.dest))
		if err := mkdirs(filepath.Dir(dest), &made); err != nil {
			return nil, err
		}
		if err := os.Rename(filepath.Join(stage, fmt.Sprint(i)), dest); err != nil {
			return nil, err
		}
		moved = append(moved, dest)
		out = append(out, m.dest)
	}
	if !mtime.IsZero() {
		for _, d := range made {
			if err := os.Chtimes(d, mtime, mtime); err != nil {
				return nil, err
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

// stageMember writes m to tmp (its data, or its archive member checked
// against RECORD while it streams) and records the staged sha256 and size.
func stageMember(tmp string, m *member, mtime time.Time, buf []byte) error {
	mode := os.FileMode(0o644)
	if m.exec {
		mode = 0o755
	}
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
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
	// OpenFile's mode is masked by the umask; the layer must not be.
	if err := os.Chmod(tmp, mode); err != nil {
		return err
	}
	if !mtime.IsZero() {
		return os.Chtimes(tmp, mtime, mtime)
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

// mkdirs is os.MkdirAll that records the directories it created.
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
