package shards

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/envkit/envkit/internal/conda/channel"
	"github.com/envkit/envkit/internal/conda/fetch"
)

// With Index, a shard index is downloaded once and then revalidated: a
// second run on the same cache gets a 304 and transfers no body (as
// conda-forge's CDN answers with its ETag), and a changed index is
// downloaded again.
func TestIndexRevalidated(t *testing.T) {
	srv, _ := newServer(t, []string{"a", "b"}, "")
	var bodies, notModified atomic.Int64
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, ok := srv.files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		rec := httptest.NewRecorder()
		rec.Header().Set("ETag", fmt.Sprintf(`"%x"`, sha256.Sum256(data)))
		http.ServeContent(rec, r, "", time.Time{}, bytes.NewReader(data))
		if rec.Code == http.StatusNotModified {
			notModified.Add(1)
		} else {
			bodies.Add(1)
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	}))
	defer hs.Close()
	ch := channel.Channel{Name: "test-channel", URL: "https://canonical.example/ch", Location: hs.URL + "/ch"}
	cache := t.TempDir()
	ctx := context.Background()
	open := func() (*Subdir, *fetch.Client) {
		t.Helper()
		client := &fetch.Client{CacheDir: cache}
		sd, err := (&Fetcher{CacheDir: cache, Index: client}).Open(ctx, ch, "linux-64")
		if err != nil || sd == nil {
			t.Fatalf("open: %v %v", sd, err)
		}
		return sd, client
	}
	first, _ := open()
	second, client := open()
	if bodies.Load() != 1 || notModified.Load() != 1 {
		t.Fatalf("%d bodies and %d 304s, want the index once and then revalidated", bodies.Load(), notModified.Load())
	}
	if _, b := client.Transferred(); b != 0 {
		t.Errorf("the revalidation transferred %d bytes", b)
	}
	if len(second.Index.Shards) != len(first.Index.Shards) || second.Index.Shards["a"] != first.Index.Shards["a"] {
		t.Errorf("the cached index differs: %v / %v", second.Index.Shards, first.Index.Shards)
	}
	// The channel adds a package: the index is downloaded again.
	ix := &Index{Info: first.Index.Info, Shards: map[string]Sum{"a": first.Index.Shards["a"], "b": first.Index.Shards["b"], "c": first.Index.Shards["a"]}}
	srv.files["/ch/linux-64/"+IndexFile] = EncodeIndex(ix)
	third, _ := open()
	if bodies.Load() != 2 || len(third.Index.Shards) != 3 {
		t.Errorf("after the index changed: %d bodies, %d names", bodies.Load(), len(third.Index.Shards))
	}
	// A channel without an index is still no error.
	if sd, err := (&Fetcher{CacheDir: cache, Index: &fetch.Client{CacheDir: cache}}).Open(ctx, ch, "noarch"); sd != nil || err != nil {
		t.Errorf("no index: %v, %v", sd, err)
	}
}
