package privateserver

import (
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// Proxy is an HTTP proxy on 127.0.0.1, as corporate networks have: it
// tunnels TLS to the host:port a client asks for (CONNECT) and forwards
// plain http:// requests, reaching every name under Domain at 127.0.0.1,
// and records every target.
type Proxy struct {
	// URL is http://127.0.0.1:PORT, for HTTPS_PROXY.
	URL string

	mu      sync.Mutex
	targets []string
}

// StartProxy starts a proxy that lets in requests with the basic
// credentials user:password, or every request when user is "". It stops
// when the test ends.
func StartProxy(t testing.TB, user, password string) *Proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{URL: "http://" + l.Addr().String()}
	want := ""
	if user != "" {
		want = "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if want != "" && r.Header.Get("Proxy-Authorization") != want {
			w.Header().Set("Proxy-Authenticate", `Basic realm="proxy"`)
			http.Error(w, "proxy credentials required", http.StatusProxyAuthRequired)
			return
		}
		p.mu.Lock()
		p.targets = append(p.targets, r.Host)
		p.mu.Unlock()
		if r.Method != http.MethodConnect {
			forward(w, r)
			return
		}
		upstream, err := net.Dial("tcp", resolve(r.Host))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		hj, ok := w.(http.Hijacker)
		if !ok {
			upstream.Close()
			http.Error(w, "no hijacking", http.StatusInternalServerError)
			return
		}
		client, buf, err := hj.Hijack()
		if err != nil {
			upstream.Close()
			return
		}
		if _, err := client.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n")); err != nil {
			upstream.Close()
			client.Close()
			return
		}
		go func() {
			defer upstream.Close()
			defer client.Close()
			done := make(chan struct{})
			go func() {
				// What the client sent along with the CONNECT is buffered.
				io.Copy(upstream, io.MultiReader(buf, client))
				upstream.(*net.TCPConn).CloseWrite()
				close(done)
			}()
			io.Copy(client, upstream)
			<-done
		}()
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return p
}

// Targets are the host:port the proxy was asked to CONNECT to, in order.
func (p *Proxy) Targets() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.targets...)
}

// Domain is the domain whose names Proxy reaches at 127.0.0.1 (Name is
// one); they resolve nowhere else.
const Domain = "envkit.test"

// resolve is host:port with a name under Domain replaced by 127.0.0.1.
func resolve(hostport string) string {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return hostport
	}
	if h := strings.ToLower(host); h == Domain || strings.HasSuffix(h, "."+Domain) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// forward passes a plain http:// request on, as a forward proxy does.
func forward(w http.ResponseWriter, r *http.Request) {
	if !r.URL.IsAbs() || r.URL.Scheme != "http" {
		http.Error(w, "a proxy request names an absolute http:// URL", http.StatusBadRequest)
		return
	}
	out := r.Clone(r.Context())
	out.RequestURI = ""
	out.URL.Host = resolve(r.URL.Host)
	out.Host = r.Host
	out.Header.Del("Proxy-Authorization")
	resp, err := (&http.Transport{Proxy: nil}).RoundTrip(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}
