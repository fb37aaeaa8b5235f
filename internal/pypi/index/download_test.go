package index

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/envkit/envkit/internal/netfetch"
)

// A wheel download that cannot finish fails with a clear error, bounded in
// time and size, and leaves nothing in the cache directory: a server that
// never answers, an endless body, /dev/zero, a sha256 mismatch.
func TestDownloadFailuresLeaveNothing(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/hang.whl":
			<-release
		case "/endless.whl":
			buf := make([]byte, 64<<10)
			for {
				if _, err := w.Write(buf); err != nil {
					return
				}
			}
		default:
			w.Write([]byte("a wheel"))
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	c := New(Options{Net: &netfetch.Client{Header: 100 * time.Millisecond, Attempts: 2, Backoff: time.Millisecond, Ceiling: 1 << 20}})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var tl *netfetch.TooLargeError
	var ue *url.Error
	for _, tc := range []struct {
		url  string
		want func(error) bool
	}{
		{srv.URL + "/hang.whl", func(err error) bool { return errors.As(err, &ue) && ue.Timeout() }},
		{srv.URL + "/endless.whl", func(err error) bool { return errors.As(err, &tl) && tl.Limit == 1<<20 }},
		{"file:///dev/zero", func(err error) bool { return err != nil && strings.Contains(err.Error(), "not a regular file") }},
		{srv.URL + "/ok.whl", func(err error) bool { return err != nil && strings.Contains(err.Error(), "sha256") }},
	} {
		dir := t.TempDir()
		err := c.Download(ctx, tc.url, strings.Repeat("0", 64), filepath.Join(dir, "w.whl"))
		if !tc.want(err) || ctx.Err() != nil {
			t.Errorf("%s: %v", tc.url, err)
		}
		if left, _ := os.ReadDir(dir); len(left) > 0 {
			t.Errorf("%s: left %v", tc.url, left)
		}
	}
}
