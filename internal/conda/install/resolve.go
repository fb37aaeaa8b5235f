package install

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
)

// maxLinkHops is Linux's MAXSYMLINKS: a resolution that follows more
// links than this is a loop.
const maxLinkHops = 40

// LinkError is a symlink in a prefix whose target leaves the prefix (or
// loops): the kernel would follow it out, so nothing may create or keep it.
type LinkError struct {
	Path, Target, Reason string
}

func (e *LinkError) Error() string {
	return fmt.Sprintf("symlink %s -> %s %s", e.Path, e.Target, e.Reason)
}

var (
	errLeaves = errors.New("leaves the prefix")
	errLoop   = errors.New("is a symlink loop")
)

// resolveLink follows the target of the symlink at link (both relative to
// root) the way the kernel would: from the real directory the link sits
// in, through the links already under root. It returns where the target
// lands, relative to root, or a *LinkError when any step of the way
// (not only the end) is outside root, as os.Root also refuses.
//
// A component that does not exist (yet) is taken as a plain directory:
// a dangling link is fine as long as it cannot leave root once its
// target appears. Links that become reachable later can still change the
// answer, so a finished tree is checked again as a whole (CheckLinks).
func resolveLink(root *os.Root, link, target string) (string, error) {
	fail := func(err error) error {
		return &LinkError{Path: link, Target: target, Reason: err.Error()}
	}
	if strings.HasPrefix(target, "/") {
		return "", fail(errors.New("is absolute"))
	}
	r := resolver{root: root}
	// The link lives in its real parent directory, which may itself be
	// reached through links (lib64 -> lib).
	if err := r.walk(path.Dir(link)); err != nil {
		return "", fail(err)
	}
	if err := r.walk(target); err != nil {
		return "", fail(err)
	}
	if len(r.cur) == 0 {
		return ".", nil
	}
	return strings.Join(r.cur, "/"), nil
}

// resolver is the state of one resolution: the components reached so
// far, how many of them are known to be real directories, and the number
// of links followed.
type resolver struct {
	root *os.Root
	cur  []string
	real int
	hops int
}

func (r *resolver) walk(p string) error {
	for _, c := range strings.Split(p, "/") {
		switch c {
		case "", ".":
			continue
		case "..":
			if len(r.cur) == 0 {
				return errLeaves
			}
			r.cur = r.cur[:len(r.cur)-1]
			r.real = min(r.real, len(r.cur))
			continue
		}
		next := append(r.cur, c)
		if r.real < len(r.cur) {
			// Below something that is not a directory: only lexical.
			r.cur = next
			continue
		}
		st, err := r.root.Lstat(strings.Join(next, "/"))
		if errors.Is(err, fs.ErrNotExist) {
			r.cur = next
			continue
		}
		if err != nil {
			return err
		}
		switch {
		case st.Mode()&fs.ModeSymlink != 0:
			if r.hops++; r.hops > maxLinkHops {
				return errLoop
			}
			t, err := r.root.Readlink(strings.Join(next, "/"))
			if err != nil {
				return err
			}
			if strings.HasPrefix(t, "/") {
				return fmt.Errorf("goes through %s -> %s, an absolute link", strings.Join(next, "/"), t)
			}
			// The target is relative to the link's directory: r.cur.
			if err := r.walk(t); err != nil {
				return err
			}
		case st.IsDir():
			r.cur = next
			r.real = len(next)
		default:
			r.cur = next
		}
	}
	return nil
}

// CheckLinks resolves every symlink under root (see resolveLink) and
// returns the first that leaves it. It is the check of a finished tree:
// links written in a later package, or later in the same one, can turn
// a link that was fine when written into one that leaves.
func CheckLinks(root *os.Root) error {
	return fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink == 0 {
			return err
		}
		t, err := root.Readlink(p)
		if err != nil {
			return err
		}
		_, err = resolveLink(root, p, t)
		return err
	})
}

// leavingLinkOn is the first link on p (p included) that
// leaves root, or nil.
func leavingLinkOn(root *os.Root, p string) *LinkError {
	parts := strings.Split(p, "/")
	for i := range parts {
		q := strings.Join(parts[:i+1], "/")
		t, err := root.Readlink(q)
		if err != nil {
			continue // not a link, or not there
		}
		var le *LinkError
		if _, err := resolveLink(root, q, t); errors.As(err, &le) {
			return le
		}
	}
	return nil
}
