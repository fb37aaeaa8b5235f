// Package privateserver stands in, on 127.0.0.1, for the private servers
// platform teams keep their packages on: an HTTPS server whose certificate
// comes from a CA of its own (made in memory, written to a PEM file for
// SSL_CERT_FILE and friends), serving directory trees or handlers — a
// conda channel, a pip simple index, a Maven repository — only to requests
// with the right credentials (basic authentication, a bearer token, or a
// conda /t/<token>/ path). Proxy is an HTTP CONNECT proxy on loopback that
// records what it is asked to reach. Tests and integration tests use them;
// nothing leaves the machine.
package privateserver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Name is a host name every server's certificate is valid for besides
// localhost and 127.0.0.1. It resolves nowhere: a client reaches it only
// through Proxy, which maps it (and every other name under Domain, for
// which the certificate is not valid) to 127.0.0.1, so a request that
// bypasses the proxy fails.
const Name = "private.envkit.test"

// CA is a certificate authority made for one test.
type CA struct {
	Cert *x509.Certificate
	key  *ecdsa.PrivateKey
	// PEM is the CA certificate, PEM-encoded; File holds the same bytes.
	PEM  []byte
	File string
}

// NewCA makes a CA and writes its certificate to a PEM file in a
// temporary directory of t.
func NewCA(t testing.TB) *CA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: "envkit test CA", Organization: []string{"envkit tests"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	ca := &CA{Cert: cert, key: key, PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
	ca.File = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca.File, ca.PEM, 0o644); err != nil {
		t.Fatal(err)
	}
	return ca
}

// Pool is a certificate pool holding only the CA, for clients in the
// test's own process.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// leaf is a server certificate signed by the CA for localhost, Name,
// 127.0.0.1 and ::1.
func (ca *CA) leaf(t testing.TB) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(t),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost", Name},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func serial(t testing.TB) *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Access is what a request must carry; a request passes with any one of
// the forms that are set. The zero Access lets every request through.
type Access struct {
	// User and Password are basic authentication credentials.
	User, Password string
	// Bearer is a token sent as "Authorization: Bearer <token>".
	Bearer string
	// CondaToken is a token in a /t/<token>/ first path segment pair,
	// as anaconda.org and Quetz take it; it is removed before routing.
	CondaToken string
}

func (a Access) open() bool { return a == Access{} }

// check returns the path to route and how r was let in ("basic",
// "bearer", "token", "open"), or "" when r is refused.
func (a Access) check(r *http.Request) (path, how string) {
	if a.open() {
		return r.URL.Path, "open"
	}
	if a.User != "" {
		if u, p, ok := r.BasicAuth(); ok && u == a.User && p == a.Password {
			return r.URL.Path, "basic"
		}
	}
	if a.Bearer != "" && r.Header.Get("Authorization") == "Bearer "+a.Bearer {
		return r.URL.Path, "bearer"
	}
	if a.CondaToken != "" {
		if rest, ok := strings.CutPrefix(r.URL.Path, "/t/"+a.CondaToken+"/"); ok {
			return "/" + rest, "token"
		}
	}
	return "", ""
}

// Request is one request a Server answered.
type Request struct {
	// Path is the path asked for, with a /t/<token>/ removed.
	Path string
	// How is how it was let in ("basic", "bearer", "token", "open"), or
	// "" when refused with 401.
	How string
}

// Server is an HTTPS server on 127.0.0.1.
type Server struct {
	// URL is https://127.0.0.1:PORT; Host is 127.0.0.1:PORT and Port
	// PORT alone (reach it as https://Name:PORT through a Proxy).
	URL, Host, Port string
	CA              *CA

	mu   sync.Mutex
	seen []Request
}

// Start serves routes (a URL path prefix such as "/conda/" → the handler
// serving what is under it, the prefix stripped; Dir makes one for a
// directory) over TLS with a certificate of ca, to requests that pass
// access; others get 401 with a WWW-Authenticate challenge. The server
// stops when the test ends.
func Start(t testing.TB, ca *CA, access Access, routes map[string]http.Handler) *Server {
	t.Helper()
	mux := http.NewServeMux()
	prefixes := make([]string, 0, len(routes))
	for p := range routes {
		prefixes = append(prefixes, p)
	}
	sort.Strings(prefixes)
	for _, p := range prefixes {
		mux.Handle(p, http.StripPrefix(strings.TrimSuffix(p, "/"), routes[p]))
	}
	s := &Server{CA: ca}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path, how := access.check(r)
		s.mu.Lock()
		s.seen = append(s.seen, Request{Path: r.URL.Path, How: how})
		s.mu.Unlock()
		if how == "" {
			if access.User != "" {
				w.Header().Set("WWW-Authenticate", `Basic realm="private"`)
			} else {
				w.Header().Set("WWW-Authenticate", `Bearer realm="private"`)
			}
			http.Error(w, "credentials required", http.StatusUnauthorized)
			return
		}
		if how == "token" {
			s.mu.Lock()
			s.seen[len(s.seen)-1].Path = path
			s.mu.Unlock()
		}
		r.URL.Path, r.URL.RawPath = path, ""
		mux.ServeHTTP(w, r)
	}))
	// Clients refusing the certificate are what some tests want.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.leaf(t)}, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	s.Host = strings.TrimPrefix(srv.URL, "https://")
	_, s.Port, _ = net.SplitHostPort(s.Host)
	return s
}

// Dir serves the files under dir (no directory listings: a real index or
// repository answers 404 for a directory without an index file).
func Dir(dir string) http.Handler {
	fs := http.FileServer(http.Dir(dir))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if st, err := os.Stat(filepath.Join(dir, filepath.FromSlash(r.URL.Path))); err == nil && st.IsDir() {
			if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(r.URL.Path), "index.html")); err != nil {
				http.NotFound(w, r)
				return
			}
		}
		fs.ServeHTTP(w, r)
	})
}

// Requests are the requests answered so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.seen...)
}

// Served reports how many requests were let in and how many refused.
func (s *Server) Served() (in, refused int) {
	for _, r := range s.Requests() {
		if r.How == "" {
			refused++
		} else {
			in++
		}
	}
	return in, refused
}
