// Package gittest serves a git repository on 127.0.0.1 for tests: smart
// HTTP by git http-backend under net/http/cgi, plain http, which the git
// binary and BuildKit's git source both accept.
package gittest

import (
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Repo is a working copy whose branch main is pushed to a bare
// repository the server serves at URL.
type Repo struct {
	t    testing.TB
	work string
	// URL is the served repository, http://127.0.0.1:PORT/repo.git.
	URL string
	// User and Password, when set, are the basic-auth credentials the
	// server requires.
	User, Password string
}

// New starts the server and makes an empty repository; the test skips
// when git is not installed.
func New(t testing.TB) *Repo {
	t.Helper()
	execPath, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Skipf("git not installed: %v", err)
	}
	root := t.TempDir()
	r := &Repo{t: t, work: t.TempDir()}
	r.run(root, "init", "--quiet", "--bare", "--initial-branch=main", "repo.git")
	r.Git("init", "--quiet", "--initial-branch=main")
	r.Git("remote", "add", "origin", filepath.Join(root, "repo.git"))
	h := &cgi.Handler{
		Path: filepath.Join(strings.TrimSpace(string(execPath)), "git-http-backend"),
		Env:  []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1"},
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	auth := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if u, p, ok := req.BasicAuth(); r.User != "" && (!ok || u != r.User || p != r.Password) {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "credentials required", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, req)
	})
	srv := &http.Server{Handler: auth, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	r.URL = "http://" + l.Addr().String() + "/repo.git"
	return r
}

// Git runs git in the working copy and returns its output.
func (r *Repo) Git(args ...string) string {
	r.t.Helper()
	return r.run(r.work, args...)
}

func (r *Repo) run(dir string, args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t",
		"GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// Commit writes files (path → content), commits them on main, pushes,
// and returns the commit.
func (r *Repo) Commit(files map[string]string) string {
	r.t.Helper()
	for name, content := range files {
		p := filepath.Join(r.work, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			r.t.Fatal(err)
		}
	}
	r.Git("add", ".")
	r.Git("commit", "--quiet", "-m", "change")
	r.Git("push", "--quiet", "origin", "main")
	return r.Git("rev-parse", "HEAD")
}
