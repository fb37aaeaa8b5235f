package pkg

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/envkit/envkit/internal/netfetch"
)

func digestsOf(b []byte) Digests {
	s, m := sha256.Sum256(b), md5.Sum(b)
	return Digests{SHA256: hex.EncodeToString(s[:]), MD5: hex.EncodeToString(m[:])}
}

// archiveServer serves the files of content by path and counts requests.
type archiveServer struct {
	content map[string][]byte
	hits    atomic.Int32
}

func (s *archiveServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.hits.Add(1)
	b, ok := s.content[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Write(b)
}

func newCache(t *testing.T) *Cache {
	return &Cache{Dir: filepath.Join(t.TempDir(), "pkgs"), Net: &netfetch.Client{Header: 200 * time.Millisecond, Idle: 200 * time.Millisecond, Attempts: 2, Backoff: time.Millisecond}}
}

// leftovers lists what the cache directory holds besides finished files.
func leftovers(t *testing.T, dir string) []string {
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(d.Name(), ".part") {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// Two channels' packages of the same file name are two cache entries; a
// damaged cached file is fetched again, not reused.
func TestCacheKeyedByContent(t *testing.T) {
	a, b := []byte("channel a's build"), []byte("channel b's build, other bytes")
	s := &archiveServer{content: map[string][]byte{"/a/x-1-0.conda": a, "/b/x-1-0.conda": b}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	c, ctx := newCache(t), context.Background()
	pa, err := c.Fetch(ctx, srv.URL+"/a/x-1-0.conda", "x-1-0.conda", digestsOf(a), int64(len(a)))
	if err != nil {
		t.Fatal(err)
	}
	pb, err := c.Fetch(ctx, srv.URL+"/b/x-1-0.conda", "x-1-0.conda", digestsOf(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(pb); pa == pb || !bytes.Equal(got, b) || filepath.Base(pb) != "x-1-0.conda" {
		t.Fatalf("%s and %s: the second fetch gave %q", pa, pb, got)
	}
	// Damaged in the cache (same size, other bytes): downloaded again.
	os.WriteFile(pa, bytes.Repeat([]byte("!"), len(a)), 0o644)
	if _, err := c.Fetch(ctx, srv.URL+"/a/x-1-0.conda", "x-1-0.conda", digestsOf(a), int64(len(a))); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(pa); !bytes.Equal(got, a) || s.hits.Load() != 3 {
		t.Errorf("after damage: %q, %d requests (want 3)", got, s.hits.Load())
	}
	// Intact: reused without a request.
	if _, err := c.Fetch(ctx, srv.URL+"/a/x-1-0.conda", "x-1-0.conda", digestsOf(a), int64(len(a))); err != nil || s.hits.Load() != 3 {
		t.Errorf("intact: %v, %d requests (want 3)", err, s.hits.Load())
	}
	// A record with only an md5 has its own key.
	md5only := Digests{MD5: digestsOf(b).MD5}
	if p, err := c.Fetch(ctx, srv.URL+"/b/x-1-0.conda", "x-1-0.conda", md5only, 0); err != nil || !strings.Contains(p, filepath.Join("md5", md5only.MD5)) {
		t.Errorf("md5 only: %s, %v", p, err)
	}
}

// A record without checksums is refused, naming the way out; with
// AllowUnverified it installs.
func TestCacheUnverified(t *testing.T) {
	body := []byte("no checksums")
	s := &archiveServer{content: map[string][]byte{"/x-1-0.conda": body}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	c, ctx := newCache(t), context.Background()
	_, err := c.Fetch(ctx, srv.URL+"/x-1-0.conda", "x-1-0.conda", Digests{}, 0)
	if !errors.Is(err, ErrUnverified) || !strings.Contains(err.Error(), "x-1-0.conda") || !strings.Contains(err.Error(), "--allow-unverified") || s.hits.Load() != 0 {
		t.Fatalf("got %v after %d requests, want the refusal before any", err, s.hits.Load())
	}
	c.AllowUnverified = true
	p, err := c.Fetch(ctx, srv.URL+"/x-1-0.conda", "x-1-0.conda", Digests{}, 0)
	if got, _ := os.ReadFile(p); err != nil || !bytes.Equal(got, body) {
		t.Errorf("allowed: %q, %v", got, err)
	}
}

// Downloads that cannot finish fail with a clear error and leave nothing
// in the cache: a server that never answers, an endless body, a body
// shorter than the record's size, a bad digest, a cancelled context.
func TestCacheFailuresLeaveNothing(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/hang.conda":
			<-release
		case "/endless.conda":
			buf := make([]byte, 64<<10)
			for {
				if _, err := w.Write(buf); err != nil {
					return
				}
			}
		case "/stall.conda":
			w.Write([]byte("half"))
			w.(http.Flusher).Flush()
			<-release
		default:
			w.Write([]byte("short"))
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	good := digestsOf([]byte("the right bytes"))
	cancelled, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	for _, tc := range []struct {
		name string
		ctx  context.Context
		c    *Cache
		size int64
		want string
	}{
		{"hang", context.Background(), newCache(t), 0, "timeout awaiting response headers"},
		{"endless", context.Background(), newCache(t), 1 << 20, "more than the 1048576 bytes allowed: refused (the record's size)"},
		{"short", context.Background(), newCache(t), 100, "is 5 bytes, the record says 100"},
		{"digest", context.Background(), newCache(t), 0, "sha256 mismatch"},
		{"stall", cancelled, &Cache{Dir: filepath.Join(t.TempDir(), "pkgs"), Net: &netfetch.Client{Idle: time.Hour}}, 0, "context canceled"},
	} {
		_, err := tc.c.Fetch(tc.ctx, srv.URL+"/"+tc.name+".conda", tc.name+".conda", good, tc.size)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
		if left := leftovers(t, tc.c.Dir); len(left) > 0 {
			t.Errorf("%s: left %v", tc.name, left)
		}
	}
}

// A server out of reach says how to use a mirror.
func TestCacheMirrorHint(t *testing.T) {
	c := newCache(t)
	_, err := c.Fetch(context.Background(), "http://127.0.0.1:1/x-1-0.conda", "x-1-0.conda", digestsOf(nil), 0)
	if err == nil || !strings.Contains(err.Error(), "ENVKIT_CHANNEL_MIRRORS=CHANNEL=URL") {
		t.Errorf("got %v, want the mirror hint", err)
	}
}

// A digest that is not hex of the right length never becomes a path.
func TestCacheBadDigest(t *testing.T) {
	c := newCache(t)
	_, err := c.Fetch(context.Background(), "file:///nonexistent", "x-1-0.conda", Digests{SHA256: "../../../../tmp/evil"}, 0)
	if err == nil || !strings.Contains(err.Error(), "is not 64 hex digits") {
		t.Errorf("got %v", err)
	}
}
