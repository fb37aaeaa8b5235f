package netfetch

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/envkit/envkit/hack/privateserver"
)

// cleanNetwork points every network and credential variable at nothing.
func cleanNetwork(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	for _, v := range networkVars {
		if v != "HOME" {
			t.Setenv(v, "")
		}
	}
	for _, v := range []string{"RATTLER_AUTH_FILE", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL"} {
		t.Setenv(v, "")
	}
	t.Setenv("NETRC", filepath.Join(home, "none"))
	return home
}

// privateFiles serves one file, /f, behind access.
func privateFiles(t *testing.T, access privateserver.Access) (*privateserver.Server, *privateserver.CA) {
	t.Helper()
	ca := privateserver.NewCA(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("private"), 0o644); err != nil {
		t.Fatal(err)
	}
	return privateserver.Start(t, ca, access, map[string]http.Handler{"/": privateserver.Dir(dir)}), ca
}

// An HTTPS server with a CA of its own and a bearer token: without the
// CA the error names the host and SSL_CERT_FILE, at once (no retry);
// with the CA and no token it names the host and the auth file; with the
// token from RATTLER_AUTH_FILE the file arrives; a wrong token is
// refused naming the file, never the token.
func TestPrivateCABearer(t *testing.T) {
	cleanNetwork(t)
	const token = "bearer-SECRET-91"
	srv, ca := privateFiles(t, privateserver.Access{Bearer: token})
	ctx := testContext(t)

	_, err := quick().Get(ctx, Request{URL: srv.URL + "/f"})
	var ce *CertificateError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "certificate of "+srv.Host+" is signed by an authority envkit does not trust") || !strings.Contains(err.Error(), "SSL_CERT_FILE=") {
		t.Fatalf("without the CA: %v", err)
	}
	if strings.Contains(err.Error(), "\n") || Unreachable(err) {
		t.Errorf("want one line, not a mirror's case: %v", err)
	}
	if in, refused := srv.Served(); in+refused != 0 {
		t.Errorf("a request passed an untrusted certificate")
	}

	// conda's ssl_verify: false is not followed, and the error says so.
	t.Setenv("CONDA_SSL_VERIFY", "false")
	if _, err := quick().Get(ctx, Request{URL: srv.URL + "/f"}); err == nil || !strings.HasSuffix(err.Error(), "; envkit never turns verification off, as CONDA_SSL_VERIFY = false asks") {
		t.Errorf("with ssl_verify false: %v", err)
	}
	t.Setenv("CONDA_SSL_VERIFY", "")

	t.Setenv("SSL_CERT_FILE", ca.File)
	_, err = quick().Get(ctx, Request{URL: srv.URL + "/f"})
	if err == nil || !strings.Contains(err.Error(), srv.Host+" needs credentials") || !strings.Contains(err.Error(), "RATTLER_AUTH_FILE") {
		t.Errorf("without the token: %v", err)
	}

	auth := filepath.Join(t.TempDir(), "auth.json")
	os.WriteFile(auth, []byte(`{"127.0.0.1": {"BearerToken": "`+token+`"}}`), 0o600)
	t.Setenv("RATTLER_AUTH_FILE", auth)
	if data, err := quick().Get(ctx, Request{URL: srv.URL + "/f"}); err != nil || string(data) != "private" {
		t.Errorf("with the token: %q %v", data, err)
	}
	if got := srv.Requests(); got[len(got)-1].How != "bearer" {
		t.Errorf("requests %+v", got)
	}

	os.WriteFile(auth, []byte(`{"127.0.0.1": {"BearerToken": "wrong-`+token+`"}}`), 0o600)
	_, err = quick().Get(ctx, Request{URL: srv.URL + "/f"})
	if err == nil || !strings.Contains(err.Error(), srv.Host+" refused the credentials from RATTLER_AUTH_FILE ("+auth+")") || strings.Contains(err.Error(), token) {
		t.Errorf("with a wrong token: %v", err)
	}
}

// Each way to give a CA: a file or directory variable, conda's
// ssl_verify in a condarc or CONDA_SSL_VERIFY. A variable naming nothing
// usable fails every download naming the variable.
func TestCASources(t *testing.T) {
	home := cleanNetwork(t)
	srv, ca := privateFiles(t, privateserver.Access{})
	ctx := testContext(t)
	caDir := filepath.Dir(ca.File)
	condarc := filepath.Join(t.TempDir(), "condarc")
	os.WriteFile(condarc, []byte("channels: [conda-forge]\nssl_verify: "+ca.File+"\n"), 0o644)
	homeRC := filepath.Join(home, ".condarc")
	for _, tc := range []struct {
		name string
		set  map[string]string
		file string // written to ~/.condarc
	}{
		{"SSL_CERT_FILE", map[string]string{"SSL_CERT_FILE": ca.File}, ""},
		{"SSL_CERT_DIR", map[string]string{"SSL_CERT_DIR": "/nonexistent-but-listed-first:" + caDir}, ""},
		{"REQUESTS_CA_BUNDLE", map[string]string{"REQUESTS_CA_BUNDLE": ca.File}, ""},
		{"PIP_CERT", map[string]string{"PIP_CERT": ca.File}, ""},
		{"CONDARC", map[string]string{"CONDARC": condarc}, ""},
		{"~/.condarc", nil, "ssl_verify: " + ca.File + "\n"},
		{"CONDA_SSL_VERIFY", map[string]string{"CONDA_SSL_VERIFY": ca.File}, "ssl_verify: true\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.set {
				t.Setenv(k, v)
			}
			os.Remove(homeRC)
			if tc.file != "" {
				os.WriteFile(homeRC, []byte(tc.file), 0o644)
			}
			if tc.name == "SSL_CERT_DIR" {
				// A missing directory in the list is a mistake too.
				if _, err := quick().Get(ctx, Request{URL: srv.URL + "/f"}); err == nil || !strings.Contains(err.Error(), "SSL_CERT_DIR=/nonexistent-but-listed-first: no such file") {
					t.Errorf("a missing directory: %v", err)
				}
				t.Setenv("SSL_CERT_DIR", caDir)
			}
			if data, err := quick().Get(ctx, Request{URL: srv.URL + "/f"}); err != nil || string(data) != "private" {
				t.Errorf("%q %v", data, err)
			}
		})
	}
	os.Remove(homeRC)

	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(notPEM, []byte("not a certificate\n"), 0o644)
	for v, val := range map[string]string{"SSL_CERT_FILE": filepath.Join(caDir, "missing.pem"), "PIP_CERT": notPEM} {
		t.Run("bad "+v, func(t *testing.T) {
			t.Setenv(v, val)
			_, err := quick().Get(ctx, Request{URL: srv.URL + "/f"})
			if err == nil || !strings.HasPrefix(err.Error(), v+"="+val+": ") || !strings.Contains(err.Error(), "give a PEM file") {
				t.Errorf("got %v", err)
			}
		})
	}
	t.Run("bad condarc", func(t *testing.T) {
		os.WriteFile(homeRC, []byte("ssl_verify: [\n"), 0o644)
		defer os.Remove(homeRC)
		if _, err := quick().Get(ctx, Request{URL: srv.URL + "/f"}); err == nil || !strings.Contains(err.Error(), homeRC+": not YAML") {
			t.Errorf("got %v", err)
		}
	})
}

// HTTPS_PROXY: the request goes through the proxy (which alone reaches
// privateserver.Name), authenticated with the proxy URL's credentials,
// which no error shows; HTTP_PROXY for http:// URLs; NO_PROXY bypasses
// them.
func TestProxy(t *testing.T) {
	cleanNetwork(t)
	srv, ca := privateFiles(t, privateserver.Access{})
	t.Setenv("SSL_CERT_FILE", ca.File)
	const proxySecret = "proxy-PW-SECRET"
	proxy := privateserver.StartProxy(t, "puser", proxySecret)
	ctx := testContext(t)
	target := "https://" + privateserver.Name + ":" + srv.Port + "/f"

	withCreds := strings.Replace(proxy.URL, "://", "://puser:"+proxySecret+"@", 1)
	t.Setenv("HTTPS_PROXY", withCreds)
	if data, err := quick().Get(ctx, Request{URL: target}); err != nil || string(data) != "private" {
		t.Fatalf("through the proxy: %q %v", data, err)
	}
	if got := proxy.Targets(); len(got) != 1 || got[0] != privateserver.Name+":"+srv.Port {
		t.Errorf("the proxy saw %v", got)
	}

	for name, proxyURL := range map[string]string{
		"wrong password": strings.Replace(proxy.URL, "://", "://puser:wrong-"+proxySecret+"@", 1),
		"not a URL":      "http://puser:" + proxySecret + "@[bad",
	} {
		t.Setenv("HTTPS_PROXY", proxyURL)
		_, err := quick().Get(ctx, Request{URL: target})
		if err == nil || strings.Contains(err.Error(), proxySecret) {
			t.Errorf("%s: %v", name, err)
		}
		var pe *ProxyError
		if name == "wrong password" && (!errors.As(err, &pe) || !strings.Contains(err.Error(), "the proxy "+strings.TrimPrefix(proxy.URL, "http://")+" (HTTPS_PROXY) answered 407") || Unreachable(err)) {
			t.Errorf("%s: %v", name, err)
		}
	}

	// Another name the proxy reaches at the same server: the certificate
	// is not for it, and the error says so in x509's words.
	t.Setenv("HTTPS_PROXY", withCreds)
	_, err := quick().Get(ctx, Request{URL: "https://other." + privateserver.Domain + ":" + srv.Port + "/f"})
	var ce *CertificateError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "the certificate of other."+privateserver.Domain+":"+srv.Port+" was refused: x509: certificate is valid for") {
		t.Errorf("another name: %v", err)
	}

	// A plain http:// URL goes through HTTP_PROXY, with its credentials.
	plain := server(t, func(w http.ResponseWriter, r *http.Request, _ <-chan struct{}) { w.Write([]byte("plain " + r.Host)) })
	_, plainPort, _ := strings.Cut(strings.TrimPrefix(plain.URL, "http://"), ":")
	plainURL := "http://plain." + privateserver.Domain + ":" + plainPort + "/x"
	t.Setenv("HTTP_PROXY", withCreds)
	if data, err := quick().Get(ctx, Request{URL: plainURL}); err != nil || string(data) != "plain plain."+privateserver.Domain+":"+plainPort {
		t.Errorf("through HTTP_PROXY: %q %v", data, err)
	}
	if got := proxy.Targets(); got[len(got)-1] != "plain."+privateserver.Domain+":"+plainPort {
		t.Errorf("the proxy saw %v", got)
	}
	t.Setenv("HTTP_PROXY", strings.Replace(proxy.URL, "://", "://puser:wrong-"+proxySecret+"@", 1))
	if _, err := quick().Get(ctx, Request{URL: plainURL}); err == nil || !strings.Contains(err.Error(), "407 Proxy Authentication Required: the proxy wants credentials") || strings.Contains(err.Error(), proxySecret) {
		t.Errorf("HTTP_PROXY with a wrong password: %v", err)
	}

	n := len(proxy.Targets())
	t.Setenv("NO_PROXY", privateserver.Name)
	if _, err := quick().Get(ctx, Request{URL: target}); err == nil || len(proxy.Targets()) != n {
		t.Errorf("NO_PROXY: the proxy was used or the name resolved: %v %v", err, proxy.Targets())
	}
}

// CABundle, for a daemon that takes one SSL_CERT_FILE: nothing when no CA
// is named (the daemon keeps the system's), else the system's bundle and
// the named CAs, which then verify the server.
func TestCABundle(t *testing.T) {
	cleanNetwork(t)
	srv, ca := privateFiles(t, privateserver.Access{})
	if b, err := CABundle(); b != nil || err != nil {
		t.Fatalf("without a CA: %d bytes, %v", len(b), err)
	}
	t.Setenv("REQUESTS_CA_BUNDLE", ca.File)
	b, err := CABundle()
	if err != nil || !bytes.HasSuffix(b, ca.PEM) {
		t.Fatalf("bundle: %v", err)
	}
	if sys, err := os.ReadFile(systemBundles[0]); err == nil && !bytes.HasPrefix(b, sys) {
		t.Error("the bundle lacks the system's")
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(b)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := c.Get(srv.URL + "/f")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}
