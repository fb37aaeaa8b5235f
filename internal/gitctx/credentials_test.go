package gitctx

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/envkit/envkit/internal/gitctx/gittest"
)

// A private repository is read with the credentials envkit finds for any
// download ($NETRC here), sent as a header through git's environment: not
// on git's command line, not in errors.
func TestFetcherCredentials(t *testing.T) {
	repo := gittest.New(t)
	commit := repo.Commit(map[string]string{"Dockerfile": "FROM scratch\n"})
	repo.User, repo.Password = "alice", "s3cret-git-pw"
	t.Setenv("HOME", t.TempDir())
	t.Setenv("RATTLER_AUTH_FILE", "")
	t.Setenv("NETRC", filepath.Join(t.TempDir(), "absent"))

	anonymous := &Fetcher{}
	defer anonymous.Close()
	if _, err := anonymous.Open(Ref{Remote: repo.URL, Ref: "main"}); err == nil {
		t.Fatal("a private repository was read without credentials")
	}

	netrc := filepath.Join(t.TempDir(), "netrc")
	if err := os.WriteFile(netrc, []byte("machine 127.0.0.1 login alice password s3cret-git-pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("NETRC", netrc)
	f := &Fetcher{}
	defer f.Close()
	tree, err := f.Open(Ref{Remote: repo.URL, Ref: "main"})
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, tree, "Dockerfile"); got != "FROM scratch\n" {
		t.Errorf("Dockerfile %q", got)
	}
	if pin := f.Pins()[Ref{Remote: repo.URL, Ref: "main"}.key()]; pin != commit {
		t.Errorf("main pinned to %s, want %s", pin, commit)
	}
	// A wrong password fails without showing it.
	if err := os.WriteFile(netrc, []byte("machine 127.0.0.1 login alice password wrong-pw-42\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	wrong := &Fetcher{}
	defer wrong.Close()
	if _, err := wrong.Open(Ref{Remote: repo.URL, Ref: "main"}); err == nil || strings.Contains(err.Error(), "wrong-pw-42") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("wrong password: %v", err)
	}
}
