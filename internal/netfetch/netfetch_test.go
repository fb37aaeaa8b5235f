package netfetch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// quick is a client with short timeouts; the tests' context is far longer,
// so an error that arrives is the client's own bound, not the test's.
func quick() *Client {
	return &Client{Connect: time.Second, Header: 200 * time.Millisecond, Idle: 200 * time.Millisecond, Attempts: 2, Backoff: time.Millisecond}
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// server serves handler; handlers blocked on release are let go before it
// closes.
func server(t *testing.T, handler func(w http.ResponseWriter, r *http.Request, release <-chan struct{})) *httptest.Server {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler(w, r, release) }))
	t.Cleanup(func() { close(release); srv.Close() })
	return srv
}

func wantTimeout(t *testing.T, err error) {
	t.Helper()
	var ue *url.Error
	if !errors.As(err, &ue) || !ue.Timeout() {
		t.Fatalf("got %v, want the client's timeout", err)
	}
	if !Unreachable(err) {
		t.Errorf("%v: Unreachable is false", err)
	}
}

// A server that accepts and never answers fails in bounded time, after
// every try.
func TestHeaderTimeout(t *testing.T) {
	var hits atomic.Int32
	srv := server(t, func(w http.ResponseWriter, r *http.Request, release <-chan struct{}) {
		hits.Add(1)
		<-release
	})
	_, err := quick().Get(testContext(t), Request{URL: srv.URL + "/pkg.conda"})
	wantTimeout(t, err)
	if hits.Load() != 2 {
		t.Errorf("%d tries, want 2", hits.Load())
	}
}

// A body that stops arriving fails on the idle bound.
func TestIdleTimeout(t *testing.T) {
	srv := server(t, func(w http.ResponseWriter, r *http.Request, release <-chan struct{}) {
		w.Write([]byte("some bytes"))
		w.(http.Flusher).Flush()
		<-release
	})
	_, err := quick().Get(testContext(t), Request{URL: srv.URL})
	wantTimeout(t, err)
	if !strings.Contains(err.Error(), "no data for 200ms") {
		t.Errorf("%v: want the idle bound named", err)
	}
}

// A body that never ends fails at the limit, without a retry.
func TestEndlessBody(t *testing.T) {
	var hits atomic.Int32
	srv := server(t, func(w http.ResponseWriter, r *http.Request, release <-chan struct{}) {
		hits.Add(1)
		buf := make([]byte, 64<<10)
		for {
			if _, err := w.Write(buf); err != nil {
				return
			}
		}
	})
	_, err := quick().Get(testContext(t), Request{URL: srv.URL, Limit: 1 << 20})
	var tl *TooLargeError
	if !errors.As(err, &tl) || tl.Limit != 1<<20 {
		t.Fatalf("got %v, want a TooLargeError at 1 MiB", err)
	}
	if hits.Load() != 1 {
		t.Errorf("%d tries, want 1", hits.Load())
	}
}

// A Content-Length over the limit is refused before the body is read; a
// body of exactly the limit is fine.
func TestLimitExact(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 1000)
	srv := server(t, func(w http.ResponseWriter, r *http.Request, release <-chan struct{}) { w.Write(body) })
	ctx := testContext(t)
	if got, err := quick().Get(ctx, Request{URL: srv.URL, Limit: 1000}); err != nil || !bytes.Equal(got, body) {
		t.Errorf("at the limit: %d bytes, %v", len(got), err)
	}
	var tl *TooLargeError
	if _, err := quick().Get(ctx, Request{URL: srv.URL, Limit: 999}); !errors.As(err, &tl) {
		t.Errorf("one byte over: %v, want TooLargeError", err)
	}
}

// The largest limit there is (a size of MaxInt64 in a lock or repodata)
// reads a body as any other; it once wrapped and panicked.
func TestLimitMaxInt64(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 1000)
	srv := server(t, func(w http.ResponseWriter, r *http.Request, release <-chan struct{}) { w.Write(body) })
	if got, err := quick().Get(testContext(t), Request{URL: srv.URL, Limit: math.MaxInt64}); err != nil || !bytes.Equal(got, body) {
		t.Errorf("%d bytes, %v", len(got), err)
	}
}

// A 5xx is retried, and the retry's answer is the result.
func TestRetryServerError(t *testing.T) {
	var hits atomic.Int32
	srv := server(t, func(w http.ResponseWriter, r *http.Request, release <-chan struct{}) {
		if hits.Add(1) == 1 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok"))
	})
	got, err := quick().Get(testContext(t), Request{URL: srv.URL})
	if err != nil || string(got) != "ok" || hits.Load() != 2 {
		t.Errorf("got %q, %v after %d tries; want ok after 2", got, err, hits.Load())
	}
}

// A download cut by a stalled body starts over on the retry: the file
// holds the whole body once, the hash is of that body.
func TestDownloadRetryStartsOver(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789"), 10000)
	var hits atomic.Int32
	srv := server(t, func(w http.ResponseWriter, r *http.Request, release <-chan struct{}) {
		if hits.Add(1) == 1 {
			w.Write(body[:5000])
			w.(http.Flusher).Flush()
			<-release
			return
		}
		w.Write(body)
	})
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := quick().Download(testContext(t), Request{URL: srv.URL}, f, h)
	if err != nil || n != int64(len(body)) {
		t.Fatalf("%d bytes, %v", n, err)
	}
	got, _ := os.ReadFile(f.Name())
	want := sha256.Sum256(body)
	if !bytes.Equal(got, body) || !bytes.Equal(h.Sum(nil), want[:]) {
		t.Errorf("file or hash is not the body's (%d bytes)", len(got))
	}
}

// A 404 is not retried and says it is a 404.
func TestNotFoundNoRetry(t *testing.T) {
	var hits atomic.Int32
	srv := server(t, func(w http.ResponseWriter, r *http.Request, release <-chan struct{}) {
		hits.Add(1)
		http.NotFound(w, r)
	})
	_, err := quick().Get(testContext(t), Request{URL: srv.URL + "/x.conda"})
	if !NotFound(err) || Unreachable(err) || !strings.Contains(err.Error(), "/x.conda: 404 Not Found") {
		t.Errorf("got %v, want a 404 naming the URL", err)
	}
	if hits.Load() != 1 {
		t.Errorf("%d tries, want 1", hits.Load())
	}
}

// file:// reads are bounded too: a device is refused, a file over the
// limit too, a missing file is NotFound.
func TestFile(t *testing.T) {
	ctx := testContext(t)
	if _, err := Default.Get(ctx, Request{URL: "file:///dev/zero"}); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("/dev/zero: %v", err)
	}
	p := filepath.Join(t.TempDir(), "f")
	os.WriteFile(p, []byte("12345"), 0o644)
	u := (&url.URL{Scheme: "file", Path: p}).String()
	var tl *TooLargeError
	if _, err := Default.Get(ctx, Request{URL: u, Limit: 4}); !errors.As(err, &tl) {
		t.Errorf("over the limit: %v", err)
	}
	if got, err := Default.Get(ctx, Request{URL: u, Limit: 5}); err != nil || string(got) != "12345" {
		t.Errorf("%q, %v", got, err)
	}
	if _, err := Default.Get(ctx, Request{URL: u + ".missing"}); !NotFound(err) {
		t.Errorf("missing: %v", err)
	}
}

// The caller's cancellation ends a wait at once and is not retried.
func TestCancel(t *testing.T) {
	var hits atomic.Int32
	srv := server(t, func(w http.ResponseWriter, r *http.Request, release <-chan struct{}) {
		hits.Add(1)
		<-release
	})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	c := &Client{Header: time.Hour, Attempts: 5}
	_, err := c.Get(ctx, Request{URL: srv.URL})
	if !errors.Is(err, context.Canceled) || hits.Load() != 1 {
		t.Errorf("got %v after %d tries, want context.Canceled after 1", err, hits.Load())
	}
}

// ReadAll gives the same bytes below and above the size it spools from.
func TestReadAll(t *testing.T) {
	for _, n := range []int{0, 10, spoolAt, spoolAt + 1, 3*spoolAt + 7} {
		body := make([]byte, n)
		for i := range body {
			body[i] = byte(i * 7)
		}
		got, err := ReadAll(bytes.NewReader(body))
		if err != nil || !bytes.Equal(got, body) {
			t.Errorf("%d bytes: got %d, %v", n, len(got), err)
		}
	}
}
