// Package registrytest serves an in-process OCI registry on 127.0.0.1 for
// tests, optionally behind HTTP basic auth.
package registrytest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	ggcr "github.com/google/go-containerregistry/pkg/registry"
)

// Start serves an empty registry for the test's duration and returns its
// host:port. With user set, every request needs basic auth user:password.
func Start(t testing.TB, user, password string) string {
	t.Helper()
	h := ggcr.New()
	if user != "" {
		inner := h
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, p, ok := r.BasicAuth()
			if !ok || u != user || p != password {
				w.Header().Set("WWW-Authenticate", `Basic realm="envkit-test"`)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			inner.ServeHTTP(w, r)
		})
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}
