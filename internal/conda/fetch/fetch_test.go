package fetch

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/envkit/envkit/internal/conda/channel"
	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/envkit/envkit/internal/conformance"
	"github.com/envkit/envkit/internal/netfetch"
	"github.com/klauspost/compress/zstd"
)

// channelServer serves files on 127.0.0.1, counting requests and 304s.
// ETags and Last-Modified are optional per file, to test both validators.
type channelServer struct {
	mu          sync.Mutex
	files       map[string][]byte
	etags       map[string]string
	status      map[string]int
	hits        map[string]int
	notModified int
	modTime     time.Time
	useModTime  bool
}

func newChannelServer(t *testing.T) (*channelServer, *httptest.Server) {
	s := &channelServer{
		files: map[string][]byte{}, etags: map[string]string{}, status: map[string]int{}, hits: map[string]int{},
		modTime: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv
}

func (s *channelServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hits[r.URL.Path]++
	if code := s.status[r.URL.Path]; code != 0 {
		http.Error(w, http.StatusText(code), code)
		return
	}
	data, ok := s.files[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if tag := s.etags[r.URL.Path]; tag != "" {
		w.Header().Set("ETag", tag)
	}
	var mod time.Time
	if s.useModTime {
		mod = s.modTime
	}
	rec := &statusRecorder{ResponseWriter: w}
	http.ServeContent(rec, r, "", mod, bytes.NewReader(data))
	if rec.code == http.StatusNotModified {
		s.notModified++
	}
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) { r.code = code; r.ResponseWriter.WriteHeader(code) }

func (s *channelServer) put(path string, data []byte, etag string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[path], s.etags[path] = data, etag
}

func (s *channelServer) counts(path string) (hits, notModified int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path], s.notModified
}

func zstdOf(t *testing.T, data []byte) []byte {
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	return enc.EncodeAll(data, nil)
}

func readConformance(t *testing.T, elem ...string) []byte {
	data, err := os.ReadFile(conformance.Dir(t, elem...))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func names(ix *repodata.Index) []string {
	var out []string
	for _, n := range ix.Names() {
		for _, r := range ix.ByName(n) {
			out = append(out, r.Channel+" "+r.Subdir+"/"+r.Filename+" "+r.URL)
		}
	}
	return out
}

func TestRevalidationWithETagAndZstd(t *testing.T) {
	noarch := readConformance(t, "channels", "test-recipes", "noarch", "repodata.json")
	s, srv := newChannelServer(t)
	s.put("/test-recipes/noarch/repodata.json.zst", zstdOf(t, noarch), `"v1"`)
	s.put("/test-recipes/noarch/repodata.json", noarch, `"plain-v1"`)
	ch := channel.Channel{Name: "test-recipes", URL: "https://conda.anaconda.org/test-recipes", Location: srv.URL + "/test-recipes"}
	c := &Client{CacheDir: t.TempDir()}
	ctx := context.Background()

	first, err := c.LoadIndex(ctx, []channel.Channel{ch}, "linux-64")
	if err != nil {
		t.Fatal(err)
	}
	if first.Len() == 0 || len(first.ByName("dependent")) == 0 {
		t.Fatalf("index has %d records, no dependent", first.Len())
	}
	r := first.ByName("dependent")[0]
	if r.Channel != ch.URL || !strings.HasPrefix(r.URL, srv.URL+"/test-recipes/noarch/") {
		t.Errorf("record channel %q url %q", r.Channel, r.URL)
	}
	if hits, _ := s.counts("/test-recipes/noarch/repodata.json"); hits != 0 {
		t.Errorf("plain repodata.json fetched %d times although the .zst exists", hits)
	}
	// The linux-64 subdir does not exist: .zst then plain, both 404, empty.
	if hits, _ := s.counts("/test-recipes/linux-64/repodata.json"); hits != 1 {
		t.Errorf("linux-64 fallback fetched %d times", hits)
	}

	second, err := c.LoadIndex(ctx, []channel.Channel{ch}, "linux-64")
	if err != nil {
		t.Fatal(err)
	}
	hits, notModified := s.counts("/test-recipes/noarch/repodata.json.zst")
	if hits != 2 || notModified != 1 {
		t.Errorf("second load: %d requests of the .zst, %d answered 304; want 2 and 1", hits, notModified)
	}
	if !reflect.DeepEqual(names(first), names(second)) {
		t.Error("the cached repodata differs from the fetched one")
	}

	// A changed channel is fetched again.
	changed := bytes.Replace(noarch, []byte(`"dependent"`), []byte(`"dependent-renamed"`), -1)
	s.put("/test-recipes/noarch/repodata.json.zst", zstdOf(t, changed), `"v2"`)
	third, err := c.LoadIndex(ctx, []channel.Channel{ch}, "linux-64")
	if err != nil {
		t.Fatal(err)
	}
	if len(third.ByName("dependent-renamed")) == 0 {
		t.Error("changed repodata not picked up")
	}
	if _, nm := s.counts(""); nm != 1 {
		t.Errorf("%d 304s after a change, want still 1", nm)
	}
}

func TestRevalidationWithLastModifiedPlainJSON(t *testing.T) {
	noarch := readConformance(t, "channels", "test-recipes", "noarch", "repodata.json")
	s, srv := newChannelServer(t)
	s.useModTime = true
	s.put("/c/noarch/repodata.json", noarch, "")
	ch := channel.Channel{Name: "c", URL: srv.URL + "/c", Location: srv.URL + "/c"}
	c := &Client{CacheDir: t.TempDir()}
	for i := 0; i < 3; i++ {
		if _, err := c.Repodata(context.Background(), ch, "noarch"); err != nil {
			t.Fatal(err)
		}
	}
	hits, notModified := s.counts("/c/noarch/repodata.json")
	zst, _ := s.counts("/c/noarch/repodata.json.zst")
	if hits != 3 || notModified != 2 || zst != 1 {
		t.Errorf("%d plain requests (want 3), %d 304s (want 2), %d .zst tries (want 1: the cache remembers)", hits, notModified, zst)
	}
	// A damaged cache file is ignored, not trusted.
	entries, _ := filepath.Glob(filepath.Join(c.CacheDir, "repodata", "*.json"))
	if len(entries) != 1 {
		t.Fatalf("cache files %v", entries)
	}
	if err := os.WriteFile(entries[0], []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	rd, err := c.Repodata(context.Background(), ch, "noarch")
	if err != nil || len(rd.Records) == 0 {
		t.Fatalf("after damage: %v", err)
	}
	if _, nm := s.counts(""); nm != 2 {
		t.Errorf("a damaged cache was revalidated")
	}
}

func TestErrors(t *testing.T) {
	s, srv := newChannelServer(t)
	s.status["/broken/noarch/repodata.json.zst"] = http.StatusInternalServerError
	s.put("/bad/noarch/repodata.json", []byte("{\n  \"packages\": {,}\n}"), "")
	c := &Client{CacheDir: t.TempDir(), Net: quickNet}
	ctx := context.Background()
	for _, tc := range []struct {
		loc, want string
	}{
		{srv.URL + "/missing", srv.URL + "/missing/noarch/repodata.json not found: not a conda channel"},
		{srv.URL + "/broken", "GET " + srv.URL + "/broken/noarch/repodata.json.zst: 500 Internal Server Error"},
		{srv.URL + "/bad", srv.URL + "/bad/noarch/repodata.json:2:16: "},
		{"file:///nonexistent/envkit/channel", "file:///nonexistent/envkit/channel/noarch/repodata.json not found"},
	} {
		ch := channel.Channel{Name: "x", URL: tc.loc, Location: tc.loc}
		_, err := c.LoadIndex(ctx, []channel.Channel{ch}, "linux-64")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.loc, err, tc.want)
		}
	}
}

func TestFileChannels(t *testing.T) {
	dir := conformance.Dir(t, "channels")
	var cfg channel.Config
	chans, err := cfg.ResolveAll([]string{"file://" + dir + "/libgcc-stub", dir + "/conda_format_repo", "file://" + dir + "/test-recipes"}, "linux-64")
	if err != nil {
		t.Fatal(err)
	}
	ix, err := (&Client{}).LoadIndex(context.Background(), chans, "linux-64")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"libgcc-ng": "file://" + dir + "/libgcc-stub/linux-64/",
		"zlib":      "file://" + dir + "/conda_format_repo/linux-64/zlib-1.2.11-h7b6447c_3.conda",
		"dependent": "file://" + dir + "/test-recipes/noarch/",
	} {
		rs := ix.ByName(name)
		if len(rs) == 0 || !strings.HasPrefix(rs[0].URL, want) {
			t.Errorf("%s: %v, want a URL starting %s", name, rs, want)
			continue
		}
		if _, err := os.Stat(strings.TrimPrefix(rs[0].URL, "file://")); err != nil {
			t.Errorf("%s: the URL does not name the archive: %v", name, err)
		}
	}
	if got := ix.Channels(); len(got) != 3 || got[0] != "file://"+dir+"/libgcc-stub" {
		t.Errorf("channel order %v", got)
	}
}

func TestDefaultCacheDir(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{EnvCacheDir: "/c", "XDG_CACHE_HOME": "/x", "HOME": "/h"}, "/c"},
		{map[string]string{"XDG_CACHE_HOME": "/x", "HOME": "/h"}, "/x/envkit"},
		{map[string]string{"HOME": "/h"}, "/h/.cache/envkit"},
	} {
		got, err := DefaultCacheDir(func(k string) string { return c.env[k] })
		if err != nil || got != c.want {
			t.Errorf("%v: %q, %v; want %q", c.env, got, err, c.want)
		}
	}
	if _, err := DefaultCacheDir(func(string) string { return "" }); err == nil {
		t.Error("no HOME: no error")
	}
}

// TestConformanceChannelsOverHTTP serves conformance/channels with Go's
// file server (Last-Modified, no ETag) and loads every real channel in it.
func TestConformanceChannelsOverHTTP(t *testing.T) {
	var mu sync.Mutex
	status := map[int]int{}
	files := http.FileServer(http.Dir(conformance.Dir(t, "channels")))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		files.ServeHTTP(rec, r)
		mu.Lock()
		status[rec.code]++
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	var cfg channel.Config
	if err := cfg.AddMirror("conda-forge=" + srv.URL + "/conda_format_repo"); err != nil {
		t.Fatal(err)
	}
	chans, err := cfg.ResolveAll([]string{srv.URL + "/libgcc-stub", "conda-forge", srv.URL + "/test-recipes"}, "linux-64")
	if err != nil {
		t.Fatal(err)
	}
	c := &Client{CacheDir: t.TempDir()}
	for _, platform := range []string{"linux-64", "osx-64", "win-64", "linux-fake"} {
		ix, err := c.LoadIndex(context.Background(), chans, platform)
		if err != nil {
			t.Fatalf("%s: %v", platform, err)
		}
		zlib := ix.ByName("zlib")
		if platform != "linux-fake" && len(zlib) == 0 {
			t.Errorf("%s: no zlib", platform)
		}
		for _, r := range zlib {
			if r.Channel != "https://conda.anaconda.org/conda-forge" || !strings.HasPrefix(r.URL, srv.URL+"/conda_format_repo/"+platform+"/zlib-") {
				t.Errorf("%s: %s from %s at %s", platform, r, r.Channel, r.URL)
			}
		}
		if gcc := ix.ByName("libgcc-ng"); platform == "linux-64" && (len(gcc) == 0 || gcc[0].Channel != srv.URL+"/libgcc-stub") {
			t.Errorf("libgcc-ng: the stub channel, listed first, must come first: %v", gcc)
		}
		if platform == "linux-fake" && len(ix.ByName("virtualdep-package")) != 2 {
			t.Errorf("linux-fake: virtualdep-package %v", ix.ByName("virtualdep-package"))
		}
	}
	first := status[http.StatusNotModified]
	if _, err := c.LoadIndex(context.Background(), chans, "linux-64"); err != nil {
		t.Fatal(err)
	}
	// linux-64 and noarch of three channels: those that exist revalidate.
	if got := status[http.StatusNotModified] - first; got < 4 {
		t.Errorf("%d answers were 304 on the second load of linux-64, want at least 4 (statuses %v)", got, status)
	}
}

// quickNet retries without waiting long.
var quickNet = &netfetch.Client{Backoff: time.Millisecond}

func TestRetriesTransientErrors(t *testing.T) {
	noarch := readConformance(t, "channels", "test-recipes", "noarch", "repodata.json")
	var mu sync.Mutex
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.URL.Path != "/c/noarch/repodata.json" {
			http.NotFound(w, r)
			return
		}
		if calls++; calls < 3 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		w.Write(noarch)
	}))
	t.Cleanup(srv.Close)
	ch := channel.Channel{Name: "c", URL: srv.URL + "/c", Location: srv.URL + "/c"}
	rd, err := (&Client{Net: quickNet}).Repodata(context.Background(), ch, "noarch")
	if err != nil || len(rd.Records) == 0 || calls != 3 {
		t.Fatalf("after two 503s: %v, %d calls", err, calls)
	}
	calls = -10 // always busy now
	_, err = (&Client{Net: quickNet}).Repodata(context.Background(), ch, "noarch")
	if err == nil || !strings.Contains(err.Error(), "503 Service Unavailable") || calls != -7 {
		t.Errorf("a server that stays busy: %v after %d calls, want the 503 after 3", err, calls+10)
	}
}

// A channel server that accepts and never answers fails in bounded time
// (the client's timeouts, not the caller's context), with an error that
// names the URL and that callers recognise as out of reach; a repodata.json
// that is a device (an endless file) is refused.
func TestHungAndEndless(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	t.Cleanup(func() { close(release); srv.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ch := channel.Channel{Name: "c", URL: srv.URL + "/c", Location: srv.URL + "/c"}
	c := &Client{CacheDir: t.TempDir(), Net: &netfetch.Client{Header: 100 * time.Millisecond, Attempts: 2, Backoff: time.Millisecond}}
	_, err := c.Repodata(ctx, ch, "noarch")
	if !netfetch.Unreachable(err) || !strings.Contains(err.Error(), srv.URL+"/c/noarch/repodata.json.zst") || ctx.Err() != nil {
		t.Errorf("hung server: %v", err)
	}

	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "noarch"), 0o755)
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "noarch", "repodata.json")); err != nil {
		t.Fatal(err)
	}
	ch = channel.Channel{Name: "z", URL: "file://" + dir, Location: "file://" + dir}
	if _, err := c.Repodata(ctx, ch, "noarch"); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("/dev/zero as repodata.json: %v", err)
	}
}
