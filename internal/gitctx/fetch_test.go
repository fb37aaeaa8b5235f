package gitctx

import (
	"context"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/envkit/envkit/internal/gitctx/gittest"
)

// testRepo serves a repository with two commits on main (the second
// changes ctx/Dockerfile) and an annotated tag v1 on the first; it
// returns its URL and the two commits.
func testRepo(t *testing.T) (url, first, second string) {
	t.Helper()
	repo := gittest.New(t)
	first = repo.Commit(map[string]string{"ctx/Dockerfile": "FROM scratch\n", "README": "r\n"})
	repo.Git("tag", "-a", "-m", "v1", "v1")
	repo.Git("push", "--quiet", "origin", "v1")
	second = repo.Commit(map[string]string{"ctx/Dockerfile": "FROM scratch\nCOPY README /\n"})
	return repo.URL, first, second
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
		{Ref{Remote: repo, Ref: strings.Repeat("0", 40)}, "the repository has no commit 0000000000000000000000000000000000000000"},
		{Ref{Remote: repo + "-missing", Ref: "main"}, "resolving"},
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

// Submodules are checked out, as BuildKit's git source does, without
// their .git files.
func TestFetcherSubmodules(t *testing.T) {
	lib := gittest.New(t)
	lib.Commit(map[string]string{"lib.txt": "lib\n"})
	app := gittest.New(t)
	app.Commit(map[string]string{"README": "app\n"})
	app.Git("submodule", "--quiet", "add", lib.URL, "vendor/lib")
	app.Git("commit", "--quiet", "-m", "submodule")
	app.Git("push", "--quiet", "origin", "main")
	f := &Fetcher{}
	defer f.Close()
	tree, err := f.Open(Ref{Remote: app.URL, Ref: "main"})
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, tree, "vendor/lib/lib.txt"); got != "lib\n" {
		t.Errorf("submodule file %q", got)
	}
	for _, p := range []string{".git", "vendor/lib/.git"} {
		if _, err := fs.Stat(tree, p); err == nil {
			t.Errorf("%s is in the context", p)
		}
	}
}
