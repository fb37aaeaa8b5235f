package wheel

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// write puts members under prefix: every file is first written to a
// staging directory inside the prefix (same filesystem), then renamed into
// place; if any step fails, what was moved and the directories made are
// removed again.
func write(prefix string, members []member, mtime time.Time) (_ []string, err error) {
	seen := map[string]bool{}
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
	for i, m := range members {
		mode := os.FileMode(0o644)
		if m.exec {
			mode = 0o755
		}
		tmp := filepath.Join(stage, fmt.Sprint(i))
		if err := os.WriteFile(tmp, m.data, mode); err != nil {
			return nil, err
		}
		// WriteFile's mode is masked by the umask; the layer must not be.
		if err := os.Chmod(tmp, mode); err != nil {
			return nil, err
		}
		if !mtime.IsZero() {
			if err := os.Chtimes(tmp, mtime, mtime); err != nil {
				return nil, err
			}
		}
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
