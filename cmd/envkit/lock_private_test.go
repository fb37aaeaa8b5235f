package main

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/envkit/envkit/hack/privateserver"
	"github.com/envkit/envkit/internal/conda/lock"
	"github.com/envkit/envkit/internal/conformance"
	"github.com/envkit/envkit/internal/pypi/pypitest"
)

// privateHTTPS serves, over HTTPS with a CA of its own and behind access,
// conda's test-recipes channel under /conda, a pip index (pipDists) under
// /simple and /files, and a Maven repository under /maven2 holding
// org.demo:util:1.0.
func privateHTTPS(t *testing.T, access privateserver.Access) *privateserver.Server {
	t.Helper()
	ix := pypitest.Serve(pipDists, true)
	t.Cleanup(ix.Server.Close)
	target, _ := url.Parse(ix.Server.URL)
	maven := t.TempDir()
	jar := []byte("PK private jar")
	sum := sha1.Sum(jar)
	dir := filepath.Join(maven, "org", "demo", "util", "1.0")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"util-1.0.pom": []byte(`<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>org.demo</groupId><artifactId>util</artifactId><version>1.0</version></project>`),
		"util-1.0.jar":      jar,
		"util-1.0.jar.sha1": []byte(hex.EncodeToString(sum[:]) + "\n"),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return privateserver.Start(t, privateserver.NewCA(t), access, map[string]http.Handler{
		"/conda/":  privateserver.Dir(conformance.Dir(t, "channels", "test-recipes")),
		"/maven2/": privateserver.Dir(maven),
		"/":        httputil.NewSingleHostReverseProxy(target),
	})
}

// privateNative writes an envkit definition whose channel, pip index and
// Spark repository are under base.
func privateNative(t *testing.T, base string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "envkit.yml")
	body := fmt.Sprintf(`name: t
conda:
  channels: [%[1]s/conda]
  dependencies:
    - python
    - pip:
      - --index-url %[1]s/simple
      - greet
spark:
  repositories: [%[1]s/maven2]
  packages:
    - {group: org.demo, artifact: util, version: "1.0"}
  precache: true
`, base)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// privateIsolate clears every source of credentials and network settings
// the machine may have; HOME is a new directory.
func privateIsolate(t *testing.T) {
	isolate(t)
	t.Setenv("ENVKIT_PKGS_DIR", t.TempDir())
	home := t.TempDir()
	t.Setenv("HOME", home)
	for _, v := range []string{"PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "RATTLER_AUTH_FILE", "HTTPS_PROXY", "https_proxy",
		"HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "REQUESTS_CA_BUNDLE", "PIP_CERT", "SSL_CERT_DIR", "CONDA_SSL_VERIFY", "CONDARC"} {
		t.Setenv(v, "")
	}
	t.Setenv("NETRC", filepath.Join(home, "no-netrc"))
	// The system's roots only: the server's CA is not among them.
	t.Setenv("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt")
}

// wantJarPin checks that the lock next to env pins the Spark jar at its
// bare URL under base.
func wantJarPin(t *testing.T, env, base string) {
	t.Helper()
	l, err := lock.ReadFile(filepath.Join(filepath.Dir(env), "conda-lock.yml"))
	if err != nil {
		t.Fatal(err)
	}
	want := base + "/maven2/org/demo/util/1.0/util-1.0.jar#sha256="
	if got := l.Metadata.Custom["spark-jar:org.demo:util:1.0"]; !strings.HasPrefix(got, want) {
		t.Errorf("spark jar pin %q, want %s…", got, want)
	}
}

// A channel, a pip index and a Maven repository behind basic
// authentication on an HTTPS server with a private CA. Without the CA
// envkit lock fails naming the host and SSL_CERT_FILE; with it and
// without credentials it names the host and the netrc; with both, lock
// and create work and nothing written or shown holds the password.
func TestPrivateHTTPSNetrc(t *testing.T) {
	privateIsolate(t)
	const secret = "https-netrc-S3CRET"
	srv := privateHTTPS(t, privateserver.Access{User: "ci", Password: secret})
	env := privateNative(t, srv.URL)

	_, errOut, code := runSolveCLI(t, "lock", env)
	if code == 0 || !strings.Contains(errOut, "the certificate of "+srv.Host+" is signed by an authority envkit does not trust") || !strings.Contains(errOut, "SSL_CERT_FILE=") {
		t.Errorf("lock without the CA: exit %d: %s", code, errOut)
	}
	if n := strings.Count(strings.TrimSpace(errOut), "\n"); n > 0 {
		t.Errorf("the certificate error takes %d lines: %s", n+1, errOut)
	}

	t.Setenv("SSL_CERT_FILE", srv.CA.File)
	wantNeedsCredentials(t, env, srv.Host, secret)

	netrc := filepath.Join(t.TempDir(), "netrc")
	if err := os.WriteFile(netrc, []byte("machine 127.0.0.1 login ci password "+secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("NETRC", netrc)
	lockAndCreate(t, env, secret)
	wantJarPin(t, env, srv.URL)
	if _, refused := srv.Served(); refused == 0 {
		t.Error("the server refused nothing: was it asked without credentials at all?")
	}
}

// A bearer token from the auth file of rattler and pixi
// ($RATTLER_AUTH_FILE), the CA from REQUESTS_CA_BUNDLE.
func TestPrivateHTTPSBearer(t *testing.T) {
	privateIsolate(t)
	const token = "bearer-S3CRET-e41"
	srv := privateHTTPS(t, privateserver.Access{Bearer: token})
	t.Setenv("REQUESTS_CA_BUNDLE", srv.CA.File)
	env := privateNative(t, srv.URL)
	wantNeedsCredentials(t, env, srv.Host, token)

	auth := filepath.Join(t.TempDir(), "credentials.json")
	if err := os.WriteFile(auth, []byte(`{"127.0.0.1": {"BearerToken": "`+token+`"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("RATTLER_AUTH_FILE", auth)
	lockAndCreate(t, env, token)
	wantJarPin(t, env, srv.URL)
	for _, r := range srv.Requests() {
		if r.How != "" && r.How != "bearer" {
			t.Errorf("%s let in as %q", r.Path, r.How)
		}
	}
}

// The token in the URLs (/t/<token>/, as anaconda.org and Quetz take it)
// for the channel, the index and the Maven repository; the CA from conda's
// ssl_verify in ~/.condarc. The lock holds the bare URLs.
func TestPrivateHTTPSTokenURL(t *testing.T) {
	privateIsolate(t)
	const token = "tk-https-S3CRET"
	srv := privateHTTPS(t, privateserver.Access{CondaToken: token})
	if err := os.WriteFile(filepath.Join(os.Getenv("HOME"), ".condarc"), []byte("ssl_verify: "+srv.CA.File+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	wantNeedsCredentials(t, privateNative(t, srv.URL), srv.Host, token)
	env := privateNative(t, srv.URL+"/t/"+token)
	lockAndCreate(t, env, token)
	wantJarPin(t, env, srv.URL)
}

// Through an HTTP CONNECT proxy (HTTPS_PROXY with the proxy's own
// password): the server's name resolves nowhere, so every download goes
// through the proxy, which sees each CONNECT; neither the proxy's password
// nor the server's token is written or shown.
func TestPrivateHTTPSProxy(t *testing.T) {
	privateIsolate(t)
	const token, proxyPassword = "bearer-proxied-S3CRET", "proxy-PW-S3CRET"
	srv := privateHTTPS(t, privateserver.Access{Bearer: token})
	t.Setenv("SSL_CERT_FILE", srv.CA.File)
	proxy := privateserver.StartProxy(t, "pu", proxyPassword)
	auth := filepath.Join(t.TempDir(), "credentials.json")
	if err := os.WriteFile(auth, []byte(`{"*.envkit.test": {"BearerToken": "`+token+`"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("RATTLER_AUTH_FILE", auth)
	base := "https://" + privateserver.Name + ":" + srv.Port
	env := privateNative(t, base)

	// The proxy refuses a wrong password, and the error does not show it.
	t.Setenv("HTTPS_PROXY", strings.Replace(proxy.URL, "://", "://pu:wrong-"+proxyPassword+"@", 1))
	_, errOut, code := runSolveCLI(t, "lock", env)
	if code == 0 || strings.Contains(errOut, proxyPassword) || !strings.Contains(errOut, "Proxy Authentication Required") {
		t.Errorf("lock with a wrong proxy password: exit %d: %s", code, errOut)
	}

	t.Setenv("HTTPS_PROXY", strings.Replace(proxy.URL, "://", "://pu:"+proxyPassword+"@", 1))
	lockAndCreate(t, env, token)
	lockAndCreate(t, env, proxyPassword)
	wantJarPin(t, env, base)
	targets := proxy.Targets()
	if len(targets) == 0 {
		t.Fatal("the proxy saw no CONNECT")
	}
	for _, tg := range targets {
		if tg != privateserver.Name+":"+srv.Port {
			t.Errorf("the proxy was asked for %s", tg)
		}
	}
}
