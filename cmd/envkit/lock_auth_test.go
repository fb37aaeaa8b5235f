package main

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/envkit/envkit/internal/conformance"
	"github.com/envkit/envkit/internal/pypi/pypitest"
)

// servePrivate serves conda's test-recipes channel under /conda and a pip
// index (pipDists) under /simple and /files on 127.0.0.1, to requests
// that pass guard, which returns the path to serve; others get 401.
func servePrivate(t *testing.T, guard func(r *http.Request) (string, bool)) string {
	t.Helper()
	ix := pypitest.Serve(pipDists, true)
	t.Cleanup(ix.Server.Close)
	target, _ := url.Parse(ix.Server.URL)
	mux := http.NewServeMux()
	mux.Handle("/conda/", http.StripPrefix("/conda", http.FileServer(http.Dir(conformance.Dir(t, "channels", "test-recipes")))))
	mux.Handle("/", httputil.NewSingleHostReverseProxy(target))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := guard(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Basic realm="private"`)
			http.Error(w, "credentials required", http.StatusUnauthorized)
			return
		}
		r.URL.Path, r.URL.RawPath = p, ""
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// privateEnv writes a definition using the private channel and index.
func privateEnv(t *testing.T, dir, channelURL, indexURL string) string {
	t.Helper()
	p := filepath.Join(dir, "environment.yml")
	body := "name: t\nchannels:\n  - " + channelURL + "\ndependencies:\n  - python\n  - pip:\n    - --index-url " + indexURL + "\n    - greet\n"
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// lockAndCreate runs envkit lock on env and envkit create --lock from
// the lock it wrote, and fails the test if either fails or if the lock,
// their outputs or the installed prefix's records carry secret.
func lockAndCreate(t *testing.T, env, secret string) {
	t.Helper()
	out, errOut, code := runSolveCLI(t, "lock", env)
	if code != 0 {
		t.Fatalf("lock: exit %d: %s", code, errOut)
	}
	lk := filepath.Join(filepath.Dir(env), "conda-lock.yml")
	data, err := os.ReadFile(lk)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "greet-1.0-py3-none-any.whl") || !strings.Contains(string(data), "python-3.99.99-0.conda") {
		t.Errorf("lock lacks the private packages:\n%s", data)
	}
	prefix := filepath.Join(t.TempDir(), "env")
	// A new process, which has learnt no credential from the lock run.
	cmd := exec.Command(os.Args[0], "-test.run=^TestEnvkitProcess$")
	cmd.Env = append(os.Environ(), "ENVKIT_TEST_ARGS="+strings.Join([]string{"create", "--prefix", prefix, "--lock", lk}, "\n"))
	b, err := cmd.CombinedOutput()
	createOut := string(b)
	if err != nil {
		t.Fatalf("create: %v: %s", err, createOut)
	}
	if sites, _ := filepath.Glob(filepath.Join(prefix, "lib/python3.99*/site-packages/greet/__init__.py")); len(sites) != 1 {
		t.Errorf("greet not installed: %v", sites)
	}
	for name, s := range map[string]string{"lock": string(data), "lock stdout": out, "lock stderr": errOut, "create output": createOut} {
		if strings.Contains(s, secret) {
			t.Errorf("%s carries the credential:\n%s", name, s)
		}
	}
	filepath.WalkDir(prefix, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".json") || strings.HasSuffix(p, "direct_url.json") || strings.HasSuffix(p, "history")) {
			if b, _ := os.ReadFile(p); strings.Contains(string(b), secret) {
				t.Errorf("%s carries the credential", p)
			}
		}
		return nil
	})
}

// wantNeedsCredentials runs envkit lock on env, which must fail naming
// host and the netrc, without showing secret.
func wantNeedsCredentials(t *testing.T, env, host, secret string) {
	t.Helper()
	out, errOut, code := runSolveCLI(t, "lock", env)
	if code == 0 || !strings.Contains(errOut, host+" needs credentials") || !strings.Contains(errOut, "netrc") {
		t.Errorf("lock without credentials: exit %d: %s", code, errOut)
	}
	if strings.Contains(out+errOut, secret) {
		t.Errorf("the error carries the credential: %s", errOut)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(env), "conda-lock.yml")); err == nil {
		t.Error("a failed lock wrote conda-lock.yml")
	}
}

// A channel and a pip index behind basic authentication: without
// credentials envkit lock fails naming the host; with the netrc that
// $NETRC names, lock and create work and nothing written or shown holds
// the password.
func TestLockCreateWithNetrc(t *testing.T) {
	isolate(t)
	t.Setenv("ENVKIT_PKGS_DIR", t.TempDir())
	t.Setenv("PIP_INDEX_URL", "")
	t.Setenv("PIP_EXTRA_INDEX_URL", "")
	const secret = "netrc-S3CRET-7c1d"
	base := servePrivate(t, func(r *http.Request) (string, bool) {
		u, p, ok := r.BasicAuth()
		return r.URL.Path, ok && u == "ci" && p == secret
	})
	host := strings.TrimPrefix(base, "http://")
	dir := t.TempDir()
	netrc := filepath.Join(dir, "netrc")
	t.Setenv("NETRC", netrc) // absent for now
	env := privateEnv(t, dir, base+"/conda", base+"/simple")
	wantNeedsCredentials(t, env, host, secret)

	if err := os.WriteFile(netrc, []byte("machine 127.0.0.1\n  login ci\n  password "+secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	lockAndCreate(t, env, secret)
}

// A channel and an index given with their token in the URL: a
// /t/<token>/ path and user:token userinfo. The lock holds the bare URLs
// and create finds the token again from the definition.
func TestLockCreateWithTokenURL(t *testing.T) {
	isolate(t)
	t.Setenv("ENVKIT_PKGS_DIR", t.TempDir())
	t.Setenv("PIP_INDEX_URL", "")
	t.Setenv("PIP_EXTRA_INDEX_URL", "")
	t.Setenv("NETRC", filepath.Join(t.TempDir(), "none"))
	const token = "tk-0123-SECRET"
	base := servePrivate(t, func(r *http.Request) (string, bool) {
		rest, ok := strings.CutPrefix(r.URL.Path, "/t/"+token+"/")
		return "/" + rest, ok
	})
	host := strings.TrimPrefix(base, "http://")
	dir := t.TempDir()
	wantNeedsCredentials(t, privateEnv(t, dir, base+"/conda", base+"/simple"), host, token)
	// envkit solve shows the channel and package URLs bare.
	out, errOut, code := runSolveCLI(t, "solve", "--json", "-v", "-c", base+"/t/"+token+"/conda", "dependent")
	if code != 0 || !strings.Contains(out, base+"/conda/noarch/dependent-") || strings.Contains(out+errOut, token) {
		t.Errorf("solve: exit %d: %s%s", code, out, errOut)
	}
	lockAndCreate(t, privateEnv(t, dir, base+"/t/"+token+"/conda", base+"/t/"+token+"/simple"), token)

	const password = "pw-SECRET-55aa"
	userBase := servePrivate(t, func(r *http.Request) (string, bool) {
		u, p, ok := r.BasicAuth()
		return r.URL.Path, ok && u == "ci" && p == password
	})
	// A wrong password fails, naming the host, without showing it.
	const wrong = "WRONG-pw-77"
	withWrong := strings.Replace(userBase, "://", "://ci:"+wrong+"@", 1)
	_, errOut, code = runSolveCLI(t, "lock", privateEnv(t, t.TempDir(), withWrong+"/conda", withWrong+"/simple"))
	if code == 0 || !strings.Contains(errOut, strings.TrimPrefix(userBase, "http://")+" refused the credentials") || strings.Contains(errOut, wrong) {
		t.Errorf("lock with a wrong password: exit %d: %s", code, errOut)
	}
	withUser := strings.Replace(userBase, "://", "://ci:"+password+"@", 1)
	dir = t.TempDir()
	lockAndCreate(t, privateEnv(t, dir, withUser+"/conda", withUser+"/simple"), password)
}

// TestEnvkitProcess is no test of its own: lockAndCreate runs it in a new
// process to run envkit with the arguments in ENVKIT_TEST_ARGS.
func TestEnvkitProcess(t *testing.T) {
	args := os.Getenv("ENVKIT_TEST_ARGS")
	if args == "" {
		t.Skip("run by lockAndCreate")
	}
	os.Exit(run(strings.Split(args, "\n")))
}

// The token in a mirror (ENVKIT_CHANNEL_MIRRORS) serves the channel and
// the index of its host, for lock and for a later create, and is never
// written.
func TestLockCreateWithTokenMirror(t *testing.T) {
	isolate(t)
	t.Setenv("ENVKIT_PKGS_DIR", t.TempDir())
	t.Setenv("PIP_INDEX_URL", "")
	t.Setenv("PIP_EXTRA_INDEX_URL", "")
	t.Setenv("NETRC", filepath.Join(t.TempDir(), "none"))
	const token = "tk-mirror-SECRET"
	base := servePrivate(t, func(r *http.Request) (string, bool) {
		rest, ok := strings.CutPrefix(r.URL.Path, "/t/"+token+"/")
		return "/" + rest, ok
	})
	t.Setenv("ENVKIT_CHANNEL_MIRRORS", "private="+base+"/t/"+token+"/conda")
	lockAndCreate(t, privateEnv(t, t.TempDir(), "private", base+"/simple"), token)
}
