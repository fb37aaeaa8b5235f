package maven

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/envkit/envkit/internal/netfetch"
)

// A repository that never answers fails the resolution in bounded time;
// a jar with an endless body fails the install at the download bound,
// leaving nothing under the prefix.
func TestHungAndEndlessRepository(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hang/com/example/app/1.0/app-1.0.pom" {
			<-release
			return
		}
		buf := make([]byte, 64<<10)
		for {
			if _, err := w.Write(buf); err != nil {
				return
			}
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	net := &netfetch.Client{Header: 100 * time.Millisecond, Attempts: 2, Backoff: time.Millisecond, Ceiling: 1 << 20}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := Resolve(ctx, []Coordinate{{"com.example", "app", "1.0"}}, Options{Repositories: []string{srv.URL + "/hang"}, NoCentral: true, Net: net})
	var ue *url.Error
	if !errors.As(err, &ue) || !ue.Timeout() || ctx.Err() != nil || !strings.Contains(err.Error(), "list it first under the definition's spark repositories") {
		t.Errorf("hung repository: %v", err)
	}
	prefix := t.TempDir()
	jars := []Jar{{Coordinate: Coordinate{"com.example", "app", "1.0"}, URL: srv.URL + "/endless/app-1.0.jar", SHA256: "00"}}
	err = Install(ctx, prefix, jars, nil, nil, true, net)
	var tl *netfetch.TooLargeError
	if !errors.As(err, &tl) {
		t.Errorf("endless jar: %v", err)
	}
	if left, _ := os.ReadDir(prefix); len(left) > 0 {
		t.Errorf("left %v", left)
	}
}
