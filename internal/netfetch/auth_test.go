package netfetch

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A server that requires basic authentication: credentials come from the
// URL (and then serve its host's other paths), else from the netrc; none
// gives an error naming the host and how to give them, and no error ever
// shows a credential.
func TestBasicAuth(t *testing.T) {
	t.Setenv("PIP_INDEX_URL", "")
	t.Setenv("PIP_EXTRA_INDEX_URL", "")
	t.Setenv("NETRC", filepath.Join(t.TempDir(), "none"))
	const secret = "s3cret-Basic"
	srv := server(t, func(w http.ResponseWriter, r *http.Request, _ <-chan struct{}) {
		if u, p, ok := r.BasicAuth(); !ok || u != "user" || p != secret {
			http.Error(w, "who are you", http.StatusUnauthorized)
			return
		}
		w.Write([]byte("ok " + r.URL.Path))
	})
	host := strings.TrimPrefix(srv.URL, "http://")
	ctx := testContext(t)

	_, err := quick().Get(ctx, Request{URL: srv.URL + "/a"})
	if err == nil || !strings.Contains(err.Error(), host+" needs credentials") || !strings.Contains(err.Error(), "machine 127.0.0.1 ") {
		t.Errorf("without credentials: %v", err)
	}

	dir := t.TempDir()
	netrc := filepath.Join(dir, "netrc")
	if err := os.WriteFile(netrc, []byte("machine 127.0.0.1 login user password "+secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("NETRC", netrc)
	if data, err := quick().Get(ctx, Request{URL: srv.URL + "/b"}); err != nil || string(data) != "ok /b" {
		t.Errorf("with the netrc: %q %v", data, err)
	}

	if err := os.WriteFile(netrc, []byte("machine 127.0.0.1 login user password wrong-"+secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = quick().Get(ctx, Request{URL: srv.URL + "/c"})
	if err == nil || !strings.Contains(err.Error(), "refused the credentials") || strings.Contains(err.Error(), secret) {
		t.Errorf("wrong netrc password: %v", err)
	}

	// Credentials in the URL win over the netrc and serve the host's
	// other paths later.
	withUser := strings.Replace(srv.URL, "://", "://user:"+secret+"@", 1)
	if data, err := quick().Get(ctx, Request{URL: withUser + "/d"}); err != nil || string(data) != "ok /d" {
		t.Errorf("with the URL's credentials: %q %v", data, err)
	}
	if data, err := quick().Get(ctx, Request{URL: srv.URL + "/e"}); err != nil || string(data) != "ok /e" {
		t.Errorf("a bare URL of the same host: %q %v", data, err)
	}
	_, err = quick().Get(ctx, Request{URL: strings.Replace(withUser, "s3cret", "bad", 1) + "/f"})
	if err == nil || strings.Contains(err.Error(), "bad-Basic") || strings.Contains(err.Error(), "user:bad") {
		t.Errorf("wrong URL password: %v", err)
	}
}

// A channel behind /t/<token>/: the token given once is put back into the
// bare URLs of its host and never appears in an error or Response.URL.
func TestTokenPath(t *testing.T) {
	const token = "tk-9f8e7d"
	srv := server(t, func(w http.ResponseWriter, r *http.Request, _ <-chan struct{}) {
		rest, ok := strings.CutPrefix(r.URL.Path, "/t/"+token+"/")
		switch {
		case !ok:
			http.Error(w, "token required", http.StatusForbidden)
		case rest == "chan/moved":
			http.Redirect(w, r, "/t/"+token+"/chan/here", http.StatusFound)
		case rest == "chan/missing":
			http.NotFound(w, r)
		default:
			w.Write([]byte(rest))
		}
	})
	ctx := testContext(t)
	_, err := quick().Get(ctx, Request{URL: srv.URL + "/chan/noarch/repodata.json"})
	if err == nil || !strings.Contains(err.Error(), "needs credentials") {
		t.Errorf("before the token is known: %v", err)
	}
	if data, err := quick().Get(ctx, Request{URL: srv.URL + "/t/" + token + "/chan/noarch/repodata.json"}); err != nil || string(data) != "chan/noarch/repodata.json" {
		t.Errorf("token URL: %q %v", data, err)
	}
	err = quick().Fetch(ctx, Request{URL: srv.URL + "/chan/moved"}, func(r *Response) error {
		if r.URL.String() != srv.URL+"/chan/here" {
			t.Errorf("Response.URL %s", r.URL)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
	_, err = quick().Get(ctx, Request{URL: srv.URL + "/t/tk-stale/chan/x"})
	if err == nil || !strings.Contains(err.Error(), "refused the credentials") || strings.Contains(err.Error(), "tk-stale") {
		t.Errorf("a wrong token: %v", err)
	}
	_, err = quick().Get(ctx, Request{URL: srv.URL + "/t/" + token + "/chan/missing"})
	if !NotFound(err) || strings.Contains(err.Error(), token) {
		t.Errorf("a 404: %v", err)
	}
}

// A server out of reach: the error names the bare URL, not the one with
// the token put back.
func TestTokenUnreachable(t *testing.T) {
	srv := server(t, func(w http.ResponseWriter, r *http.Request, _ <-chan struct{}) {})
	base := srv.URL
	srv.Close()
	const token = "tk-unreachable-1"
	_, err := quick().Get(testContext(t), Request{URL: base + "/t/" + token + "/chan/noarch/repodata.json"})
	if !Unreachable(err) || strings.Contains(err.Error(), token) || !strings.Contains(err.Error(), base+"/chan/noarch/repodata.json") {
		t.Errorf("got %v", err)
	}
}
