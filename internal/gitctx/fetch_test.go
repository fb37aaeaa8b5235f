package gitctx

import (
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// testRepo makes a repository with two commits on main (the second
// changes ctx/Dockerfile), an annotated tag v1 on the first, and returns
// its path and the two commits.
func testRepo(t *testing.T) (dir, first, second string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	dir = t.TempDir()
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@e", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@e",
			"GIT_AUTHOR_DATE=2020-01-01T00:00:00Z", "GIT_COMMITTER_DATE=2020-01-01T00:00:00Z", "GIT_CONFIG_GLOBAL=/dev/null")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v: %s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	write := func(name, content string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git("init", "--quiet", "--initial-branch=main")
	write("ctx/Dockerfile", "FROM scratch\n")
	write("README", "r\n")
	git("add", ".")
	git("commit", "--quiet", "-m", "one")
	first = git("rev-parse", "HEAD")
	git("tag", "-a", "-m", "v1", "v1")
	write("ctx/Dockerfile", "FROM scratch\nCOPY README /\n")
	git("commit", "--quiet", "-am", "two")
	second = git("rev-parse", "HEAD")
	return dir, first, second
}

func readFile(t *testing.T, fsys fs.FS, name string) string {
	t.Helper()
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestFetcher(t *testing.T) {
	repo, first, second := testRepo(t)
	f := &Fetcher{Ctx: context.Background()}
	defer f.Close()

	// A branch resolves to its head now and is reported for the lock.
	main := Ref{Remote: repo, Ref: "main", Subdir: "ctx"}
	tree, err := f.Open(main)
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, tree, "Dockerfile"); !strings.Contains(got, "COPY") {
		t.Errorf("main: Dockerfile %q, want the second commit's", got)
	}
	if _, err := fs.Stat(tree, "../README"); err == nil {
		t.Error("the context reaches out of its subdirectory")
	}
	if got := f.Pins(); len(got) != 1 || got[main.key()] != second {
		t.Errorf("pins %v, want main → %s", got, second)
	}

	// An annotated tag resolves to its commit; the whole tree has no .git.
	whole, err := f.Open(Ref{Remote: repo, Ref: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, whole, "ctx/Dockerfile"); got != "FROM scratch\n" {
		t.Errorf("v1: Dockerfile %q", got)
	}
	if _, err := fs.Stat(whole, ".git"); err == nil {
		t.Error("the checkout keeps .git (BuildKit's git source drops it)")
	}
	if got := f.Pins()[Ref{Remote: repo, Ref: "v1"}.key()]; got != first {
		t.Errorf("v1 pinned to %s, want the tagged commit %s", got, first)
	}

	// The lock's pin wins over the branch's head, unless Resolve.
	locked := &Fetcher{Locked: Record(nil, map[string]string{main.key(): first})}
	defer locked.Close()
	tree, err = locked.Open(main)
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, tree, "Dockerfile"); got != "FROM scratch\n" {
		t.Errorf("locked main: Dockerfile %q, want the first commit's", got)
	}
	moved := &Fetcher{Locked: locked.Locked, Resolve: true}
	defer moved.Close()
	if _, err := moved.Open(main); err != nil || moved.Pins()[main.key()] != second {
		t.Errorf("Resolve: %v, pins %v, want main → %s", err, moved.Pins(), second)
	}

	// A commit in the URL is read as is and pins nothing.
	exact := &Fetcher{}
	defer exact.Close()
	if _, err := exact.Open(Ref{Remote: repo, Ref: first, Subdir: "ctx"}); err != nil || len(exact.Pins()) != 0 {
		t.Errorf("commit ref: %v, pins %v", err, exact.Pins())
	}

	for _, tc := range []struct {
		ref  Ref
		want string
	}{
		{Ref{Remote: repo, Ref: "nope"}, "has no branch or tag \"nope\""},
		{Ref{Remote: repo, Ref: "main", Subdir: "nope"}, "subdirectory nope"},
		{Ref{Remote: repo, Ref: strings.Repeat("0", 40)}, "checking out"},
		{Ref{Remote: filepath.Join(repo, "missing"), Ref: "main"}, "resolving"},
	} {
		if _, err := exact.Open(tc.ref); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%+v): %v, want %q", tc.ref, err, tc.want)
		}
	}
	dir := f.dir
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("Close left %s", dir)
	}
}
