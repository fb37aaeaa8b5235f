package install

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// buildTree makes, under root (an os.Root, so nothing it makes can land
// outside), the directories, files and symlinks ops describes: names from
// {a, b, c}, link targets from {a, b, c, ., ..}. Operations that fail
// (a name already taken, a parent that is a file) are skipped.
func buildTree(root *os.Root, ops []byte) {
	next := func() byte {
		if len(ops) == 0 {
			return 0
		}
		b := ops[0]
		ops = ops[1:]
		return b
	}
	names := []string{"a", "b", "c"}
	targets := []string{"a", "b", "c", ".", ".."}
	for n := 0; len(ops) > 0 && n < 16; n++ {
		kind, depth := next()%4, int(next()%3)+1
		parts := make([]string, depth)
		for i := range parts {
			parts[i] = names[next()%3]
		}
		p := strings.Join(parts, "/")
		if depth > 1 && root.MkdirAll(filepath.Dir(p), 0o755) != nil {
			continue
		}
		switch kind {
		case 0:
			root.Mkdir(p, 0o755)
		case 1:
			root.WriteFile(p, nil, 0o644)
		default:
			t := make([]string, int(next()%6))
			for i := range t {
				t[i] = targets[next()%5]
			}
			root.Symlink(strings.Join(t, "/"), p)
		}
	}
}

// FuzzResolveLink builds random trees of directories and link chains and
// checks resolveLink against the kernel on the real tree: a link whose
// target the kernel reaches inside the root is accepted and resolved to
// that same file; one the kernel follows out (beside the root lie a, b
// and c, so an escape lands on something) is refused; a loop is refused;
// and an accepted link never takes the kernel out. For a link the kernel
// cannot follow yet (a missing component), the target is made, and the
// kernel must then find it inside exactly when resolveLink accepted it.
func FuzzResolveLink(f *testing.F) {
	f.Add([]byte{2, 0, 0, 2, 3, 3})                               // a -> .
	f.Add([]byte{2, 0, 0, 1, 4, 2, 0, 1, 2, 1, 4})                // a -> .., b -> a/..
	f.Add([]byte{2, 0, 1, 2, 0, 3, 2, 0, 0, 2, 4, 4})             // b -> a/.., a -> ../..
	f.Add([]byte{0, 0, 0, 2, 1, 0, 1, 3, 4, 4, 4, 2, 0, 2, 1, 1}) // a/b -> ../../.., c -> b/b
	f.Fuzz(func(t *testing.T, ops []byte) {
		base := t.TempDir()
		for _, n := range []string{"a", "b", "c", "a/a", "b/b"} {
			os.Mkdir(filepath.Join(base, n), 0o755)
		}
		dir := filepath.Join(base, "root")
		os.Mkdir(dir, 0o755)
		root, err := os.OpenRoot(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer root.Close()
		buildTree(root, ops)
		var dangling, danglingTarget string // the first link the kernel cannot follow yet
		var danglingOK bool                 // and whether resolveLink accepted it
		err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.Type()&fs.ModeSymlink == 0 {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			target, _ := os.Readlink(p)
			got, rerr := resolveLink(root, rel, target)
			var le *LinkError
			if rerr != nil && !errors.As(rerr, &le) {
				t.Fatalf("%s -> %s: %v, not a LinkError", rel, target, rerr)
			}
			st, kerr := os.Stat(p) // the kernel's own resolution, 40 links at most
			switch {
			case kerr == nil:
				real, err := filepath.EvalSymlinks(p)
				if err != nil {
					t.Fatalf("%s: kernel resolves it, EvalSymlinks not: %v", rel, err)
				}
				inside := real == dir || strings.HasPrefix(real, dir+"/")
				if inside != (rerr == nil) {
					t.Fatalf("%s -> %s: the kernel reaches %s; resolveLink says %q, %v", rel, target, real, got, rerr)
				}
				if inside {
					at, err := os.Stat(filepath.Join(dir, got))
					if err != nil || !os.SameFile(st, at) {
						t.Fatalf("%s -> %s: resolved to %q, the kernel reaches %s", rel, target, got, real)
					}
				}
			case errors.Is(kerr, syscall.ELOOP):
				if rerr == nil {
					t.Fatalf("%s -> %s: the kernel loops; resolveLink accepted it as %q", rel, target, got)
				}
			default:
				// Dangling (ENOENT, ENOTDIR): judged below, once.
				if dangling == "" && errors.Is(kerr, fs.ErrNotExist) {
					dangling, danglingTarget, danglingOK = rel, target, rerr == nil
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// A dangling link's target appears: its missing components made
		// as directories, through os.Root (which refuses to go out, as
		// resolveLink must). The kernel then follows it, inside exactly
		// when resolveLink accepted it.
		if dangling != "" {
			err := root.MkdirAll(filepath.Dir(dangling)+"/"+danglingTarget, 0o755)
			escapes := err != nil && strings.Contains(err.Error(), "escapes")
			if escapes && danglingOK {
				t.Fatalf("%s -> %s: accepted, but making its target goes out: %v", dangling, danglingTarget, err)
			}
			if err == nil {
				real, err := filepath.EvalSymlinks(filepath.Join(dir, dangling))
				if err == nil && (real == dir || strings.HasPrefix(real, dir+"/")) != danglingOK {
					t.Fatalf("%s -> %s: its target made, the kernel reaches %s; resolveLink accepted it: %v", dangling, danglingTarget, real, danglingOK)
				}
			}
		}
		if (CheckLinks(root) == nil) != allAccepted(root, dir) {
			t.Fatal("CheckLinks disagrees with resolveLink on the tree")
		}
	})
}

func allAccepted(root *os.Root, dir string) bool {
	ok := true
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type()&fs.ModeSymlink != 0 {
			rel, _ := filepath.Rel(dir, p)
			t, _ := os.Readlink(p)
			if _, err := resolveLink(root, rel, t); err != nil {
				ok = false
			}
		}
		return nil
	})
	return ok
}

// TestResolveLink: the cases real packages have, and the tricks.
func TestResolveLink(t *testing.T) {
	dir := t.TempDir()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	root.MkdirAll("lib/deep/er", 0o755)
	root.Symlink("lib", "lib64")
	root.Symlink("deep/er", "lib/short")
	root.Symlink(".", "self")
	for _, c := range []struct{ link, target, want string }{
		{"lib/libfoo.so", "libfoo.so.1", "lib/libfoo.so.1"},
		{"bin/python", "python3.11", "bin/python3.11"},
		{"lib64/libbar.so", "../lib/libbar.so.2", "lib/libbar.so.2"},
		{"share/man/x.1", "../../lib/short/../x", "lib/deep/x"},
		{"a", "missing/../lib", "lib"},
		{"lib/short/up", "../..", "lib"},
		{"self/self/x", "y", "y"},
		{"lib/short/up2", "../../..", "."}, // lexically it leaves; really lib/deep/er/../../..
	} {
		got, err := resolveLink(root, c.link, c.target)
		if err != nil || got != c.want {
			t.Errorf("%s -> %s: %q %v, want %q", c.link, c.target, got, err, c.want)
		}
	}
	for _, c := range []struct{ link, target string }{
		{"x", ".."},
		{"x", "/etc"},
		{"self/self/self/x", "../y"},       // lexically self/self/y
		{"a", "missing/../../x"},           // lexical below a missing directory
		{"lib64/x", "../lib64/../../../y"}, // through lib64 -> lib and back up
	} {
		if got, err := resolveLink(root, c.link, c.target); err == nil {
			t.Errorf("%s -> %s: accepted as %q", c.link, c.target, got)
		}
	}
	root.Symlink("loop2", "loop1")
	root.Symlink("loop1", "loop2")
	if _, err := resolveLink(root, "x", "loop1/y"); err == nil || !strings.Contains(err.Error(), "loop") {
		t.Errorf("loop: %v", err)
	}
}
