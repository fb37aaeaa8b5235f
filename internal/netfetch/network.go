package netfetch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
	"golang.org/x/net/http/httpproxy"
)

// The environment variables that say how to reach servers: proxies, as
// curl, pip and conda read them (Go's rules: the https variable for https
// URLs, NO_PROXY's hosts and domains bypass, loopback never proxied), and
// CA certificates to trust besides the system's.
var networkVars = append(ProxyVars[:len(ProxyVars):len(ProxyVars)],
	"SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "PIP_CERT", "CONDA_SSL_VERIFY", "CONDARC", "HOME")

// ProxyVars are the proxy variables, in both cases as programs read them.
var ProxyVars = []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"}

// caVars name, in order, the variables whose files add CA certificates;
// SSL_CERT_DIR holds directories (separated by ":", as Go and OpenSSL
// read it). Go's own system roots already follow SSL_CERT_FILE and
// SSL_CERT_DIR when they are set as the process starts; envkit reads them
// again so a value set later (a test) counts too.
var caVars = []string{"SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "PIP_CERT"}

// networkKey is the values of networkVars: a transport made for one key
// serves while the environment stays the same.
func networkKey() string {
	var b strings.Builder
	for _, v := range networkVars {
		b.WriteString(os.Getenv(v))
		b.WriteByte(0)
	}
	return b.String()
}

// transport is a transport for the environment as it is now: its proxy
// settings and, when any CA is given, the system's roots plus those CAs.
func (c *Client) transport() (*http.Transport, error) {
	t := http.DefaultTransport.(*http.Transport).Clone()
	connect := c.setting(c.Connect, Default.Connect)
	t.DialContext = (&net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = connect
	t.ResponseHeaderTimeout = c.setting(c.Header, Default.Header)
	// Read afresh, not through http.ProxyFromEnvironment, which keeps the
	// first values it saw for the life of the process.
	proxy := httpproxy.FromEnvironment().ProxyFunc()
	t.Proxy = func(r *http.Request) (*url.URL, error) {
		u, err := proxy(r.URL)
		if err != nil {
			// httpproxy's message quotes the variable, credentials and all.
			return nil, errors.New("the proxy variable for " + r.URL.Scheme + " URLs (HTTPS_PROXY or HTTP_PROXY) is not a URL: give http://[user:password@]host:port")
		}
		return u, nil
	}
	t.OnProxyConnectResponse = func(_ context.Context, proxy *url.URL, req *http.Request, resp *http.Response) error {
		if resp.StatusCode == http.StatusOK {
			return nil
		}
		return &ProxyError{Proxy: proxy.Host, Target: req.URL.Host, Code: resp.StatusCode, Status: resp.Status}
	}
	pool, err := caPool()
	if err != nil {
		return nil, err
	}
	if pool != nil {
		t.TLSClientConfig = &tls.Config{RootCAs: pool}
	}
	return t, nil
}

// caPool is the system's roots plus the certificates the CA variables and
// conda's ssl_verify name, or nil when none is named.
func caPool() (*x509.CertPool, error) {
	extra, err := extraCAs()
	if err != nil || extra == nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	pool.AppendCertsFromPEM(extra)
	return pool, nil
}

// extraCAs is every certificate the CA variables and conda's ssl_verify
// name, PEM-encoded, or nil when none is named. A name that gives no
// certificate is an error naming it.
func extraCAs() ([]byte, error) {
	type source struct{ name, path string }
	var sources []source
	for _, v := range caVars {
		val := os.Getenv(v)
		if val == "" {
			continue
		}
		if v == "SSL_CERT_DIR" {
			for _, d := range filepath.SplitList(val) {
				if d != "" {
					sources = append(sources, source{v, d})
				}
			}
			continue
		}
		sources = append(sources, source{v, val})
	}
	from, value, err := condaSSLVerify()
	if err != nil {
		return nil, err
	}
	if p := bundlePath(value); p != "" {
		sources = append(sources, source{from, p})
	}
	var out []byte
	for _, s := range sources {
		if systemSource(s.path) {
			continue
		}
		certs, err := readCerts(s.path)
		if err != nil {
			return nil, fmt.Errorf("%s=%s: %v: give a PEM file (or a directory of them) holding the CA certificates to trust", s.name, s.path, err)
		}
		out = append(out, certs...)
	}
	return out, nil
}

// readCerts is the PEM certificates of a file, or of every file in a
// directory (as OpenSSL's hashed directories hold them).
func readCerts(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, errors.Unwrap(err) // the path is in the caller's message
	}
	files := []string{path}
	if st.IsDir() {
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, err
		}
		files = files[:0]
		for _, e := range entries {
			files = append(files, filepath.Join(path, e.Name()))
		}
	}
	var out []byte
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			if st.IsDir() {
				continue // a subdirectory or an unreadable entry, as Go skips them
			}
			return nil, err
		}
		for {
			var b *pem.Block
			b, data = pem.Decode(data)
			if b == nil {
				break
			}
			if b.Type == "CERTIFICATE" {
				if _, err := x509.ParseCertificate(b.Bytes); err == nil {
					out = append(out, pem.EncodeToMemory(&pem.Block{Type: b.Type, Bytes: b.Bytes})...)
				}
			}
		}
	}
	if out == nil {
		return nil, errors.New("no PEM certificate in it")
	}
	return out, nil
}

// systemBundles are where Go looks for the system's CA bundle on Linux,
// in its order (crypto/x509's root_linux.go).
var systemBundles = []string{
	"/etc/ssl/certs/ca-certificates.crt",
	"/etc/pki/tls/certs/ca-bundle.crt",
	"/etc/ssl/ca-bundle.pem",
	"/etc/pki/tls/cacert.pem",
	"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
	"/etc/ssl/cert.pem",
}

// startRoots are where Go's system roots come from in this process: the
// SSL_CERT_FILE and SSL_CERT_DIR it started with, else Go's defaults.
// Machines often point every variable at the system's bundle
// (PIP_CERT=/etc/ssl/certs/ca-certificates.crt): those add nothing, and
// reading them again would cost each run the parsing of hundreds of
// certificates.
var startRoots = func() map[string]bool {
	m := map[string]bool{}
	files := systemBundles
	if f := os.Getenv("SSL_CERT_FILE"); f != "" {
		files = []string{f}
	}
	dirs := []string{"/etc/ssl/certs", "/etc/pki/tls/certs"}
	if d := os.Getenv("SSL_CERT_DIR"); d != "" {
		dirs = filepath.SplitList(d)
	}
	for _, p := range append(files, dirs...) {
		m[filepath.Clean(p)] = true
	}
	return m
}()

// systemSource reports whether path is one the system roots were read
// from.
func systemSource(path string) bool { return startRoots[filepath.Clean(path)] }

// CABundle is, when the environment names CA certificates (as downloads
// read them), one PEM bundle of the system's CA bundle and those
// certificates, for a program that takes a single SSL_CERT_FILE in place
// of the system's bundle (buildkitd); nil when none is named.
func CABundle() ([]byte, error) {
	extra, err := extraCAs()
	if err != nil || extra == nil {
		return nil, err
	}
	var out []byte
	for _, f := range systemBundles {
		if data, err := os.ReadFile(f); err == nil {
			out = append(data, '\n')
			break
		}
	}
	return append(out, extra...), nil
}

// condaSSLVerify is conda's ssl_verify, from $CONDA_SSL_VERIFY, else
// $CONDARC, else ~/.condarc (conda's later files win, and its variable
// over them), and where it came from; "" when unset. A value is a CA
// bundle's path or a boolean word (bundlePath).
func condaSSLVerify() (from, value string, err error) {
	if v := os.Getenv("CONDA_SSL_VERIFY"); v != "" {
		return "CONDA_SSL_VERIFY", v, nil
	}
	var files []string
	if p := os.Getenv("CONDARC"); p != "" {
		files = append(files, p)
	}
	if home, err := os.UserHomeDir(); err == nil {
		files = append(files, filepath.Join(home, ".condarc"))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue // a condarc is optional
		}
		var rc struct {
			SSLVerify any `yaml:"ssl_verify"`
		}
		if err := yaml.Unmarshal(data, &rc); err != nil {
			return "", "", fmt.Errorf("%s: not YAML conda can read: %v", f, err)
		}
		switch v := rc.SSLVerify.(type) {
		case nil:
			continue
		case string:
			return f + " ssl_verify", v, nil
		default:
			return f + " ssl_verify", fmt.Sprint(v), nil
		}
	}
	return "", "", nil
}

// bundlePath is an ssl_verify value as a path: "" for conda's boolean
// words.
func bundlePath(v string) string {
	if _, ok := verifyWord(v); ok {
		return ""
	}
	return os.ExpandEnv(strings.TrimSpace(v))
}

// verifyWord reads an ssl_verify value that is no path: whether it
// verifies, and whether it is such a word.
func verifyWord(v string) (verify, ok bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "true", "yes", "1", "truststore":
		return true, true
	case "false", "no", "0":
		return false, true
	}
	return false, false
}

// verifyOff names where conda's ssl_verify says false, which envkit does
// not follow; "" otherwise.
func verifyOff() string {
	from, v, err := condaSSLVerify()
	if verify, word := verifyWord(v); err != nil || !word || verify {
		return ""
	}
	return from
}

// CertificateError is a server whose certificate was refused.
type CertificateError struct {
	// URL is the URL asked for, without its credentials; Host the server.
	URL, Host string
	Err       error
	// VerifyOff names where conda's ssl_verify: false was found, which
	// envkit does not follow.
	VerifyOff string
}

func (e *CertificateError) Error() string {
	var ua x509.UnknownAuthorityError
	if errors.As(e.Err, &ua) {
		msg := "GET " + e.URL + ": the certificate of " + e.Host + " is signed by an authority envkit does not trust: give that CA's certificate as a PEM file with SSL_CERT_FILE=/path/ca.pem (or SSL_CERT_DIR, REQUESTS_CA_BUNDLE, PIP_CERT, or ssl_verify: /path/ca.pem in ~/.condarc)"
		if e.VerifyOff != "" {
			msg += "; envkit never turns verification off, as " + e.VerifyOff + " = false asks"
		}
		return msg
	}
	return "GET " + e.URL + ": the certificate of " + e.Host + " was refused: " + certReason(e.Err)
}

func (e *CertificateError) Unwrap() error { return e.Err }

// certReason is x509's own words without the layers around them.
func certReason(err error) string {
	var he x509.HostnameError
	var ie x509.CertificateInvalidError
	switch {
	case errors.As(err, &he):
		return he.Error()
	case errors.As(err, &ie):
		return ie.Error()
	}
	return err.Error()
}

// certificateError returns err as a *CertificateError when a server's
// certificate failed verification: not a *url.Error, so neither retried
// nor Unreachable (a mirror would not help).
func certificateError(err error, rawURL, host string) error {
	var ve *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ie x509.CertificateInvalidError
	if errors.As(err, &ve) || errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ie) {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return &CertificateError{URL: rawURL, Host: host, Err: err, VerifyOff: verifyOff()}
	}
	return err
}

// ProxyError is a proxy that would not open a tunnel to a server.
type ProxyError struct {
	// Proxy is the proxy's host:port (never its credentials), Target
	// the server's.
	Proxy, Target string
	Code          int
	Status        string
}

func (e *ProxyError) Error() string {
	msg := "the proxy " + e.Proxy + " (HTTPS_PROXY) answered " + e.Status + " when asked for " + e.Target
	if e.Code == http.StatusProxyAuthRequired {
		return msg + ": give its user and password in the variable (HTTPS_PROXY=http://USER:PASSWORD@" + e.Proxy + ")"
	}
	return msg
}

// proxyError returns err's *ProxyError, not inside a *url.Error: a
// refusal is retried only for a status a retry may change, and it is no
// server's unreachability.
func proxyError(err error) error {
	var pe *ProxyError
	if errors.As(err, &pe) {
		return pe
	}
	return err
}
