//go:build integration

package integration

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestShardedChannelWithoutLock: a channel served with CEP 16 shards (made
// by envkit index) builds through # syntax= without a lock, reading only
// the shards the solve reaches; the same builder builds it again without
// fetching any shard; and the image is the one a lock of the channel's
// repodata.json gives.
func TestShardedChannelWithoutLock(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(env.fixtures, "channel")
	for _, subdir := range []string{"linux-64", "noarch"} {
		archives, err := filepath.Glob(filepath.Join(src, subdir, "*.tar.bz2"))
		if err != nil || len(archives) == 0 {
			t.Fatalf("fixture channel %s: %v", subdir, err)
		}
		if err := os.MkdirAll(filepath.Join(dir, subdir), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, a := range archives {
			if err := os.Link(a, filepath.Join(dir, subdir, filepath.Base(a))); err != nil {
				t.Fatal(err)
			}
		}
	}
	run(t, 5*time.Minute, "envkit", "index", dir)

	var mu sync.Mutex
	var shardsFetched, repodataFetched int
	files := http.FileServer(http.Dir(dir))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		switch {
		case strings.Contains(r.URL.Path, "/shards/"):
			shardsFetched++
		case strings.Contains(r.URL.Path, "repodata.json"):
			repodataFetched++
		}
		mu.Unlock()
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	counts := func() (int, int) {
		mu.Lock()
		defer mu.Unlock()
		s, r := shardsFetched, repodataFetched
		shardsFetched, repodataFetched = 0, 0
		return s, r
	}

	def := "# syntax=" + frontendImage(t) + "\n" + helloDefinition(srv.URL)
	ctxDir := writeFiles(t, map[string]string{"environment.yml": def})
	builder := freshBuilder(t)
	build := func(tag string) string {
		meta := filepath.Join(t.TempDir(), tag+".json")
		run(t, 15*time.Minute, "buildctl", "--addr", builder, "build", "--progress", "plain", "--frontend", "dockerfile.v0",
			"--local", "context="+ctxDir, "--local", "dockerfile="+ctxDir, "--opt", "filename=environment.yml",
			"--opt", "build-arg:SOURCE_DATE_EPOCH="+epoch, "--output", imageOutput(env.Registry+"/envkit/sharded:"+tag), "--metadata-file", meta)
		return metadataDigest(t, meta)
	}
	counts() // the frontend image's build fetched nothing from here, but be sure
	first := build("first")
	shards, repodata := counts()
	// python and envkit-hello (and nothing else: the channel has 26 names).
	if shards == 0 || shards > 4 || repodata != 0 {
		t.Errorf("first build fetched %d shards and %d repodata files, want python's and envkit-hello's shards only", shards, repodata)
	}
	if second := build("second"); second != first {
		t.Errorf("second build %s, first %s", second, first)
	}
	if shards, _ := counts(); shards != 0 {
		t.Errorf("the second build fetched %d shards again", shards)
	}
	checkHello(t, env.Registry+"/envkit/sharded@"+first)

	// The lock of the same channel (envkit lock) gives the same image.
	run(t, 2*time.Minute, "envkit", "lock", filepath.Join(ctxDir, "environment.yml"))
	if locked := build("locked"); locked != first {
		t.Errorf("built from the lock: %s, from the shards: %s", locked, first)
	}
}
