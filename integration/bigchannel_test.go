//go:build integration

package integration

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/envkit/envkit/hack/fixtures"
)

// bigChannel serves the conda-forge-sized fixture channel (make
// big-channel) at one URL in either form, so that both forms lock and
// build the same records with the same URLs: /big/… is the channel
// server's big-channel/… (monolithic) or big-channel-sharded/…. It counts
// the shards fetched.
type bigChannel struct {
	URL string
	mu  sync.Mutex
	// form is the channel server's name for the form served.
	form   string
	shards int
}

func (b *bigChannel) serve(form string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.form = form
}

// shardsFetched returns (and forgets) how many shards were fetched.
func (b *bigChannel) shardsFetched() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := b.shards
	b.shards = 0
	return n
}

func newBigChannel(t *testing.T) *bigChannel {
	t.Helper()
	upstream, err := url.Parse(env.ChannelURL)
	if err != nil {
		t.Fatal(err)
	}
	b := &bigChannel{}
	proxy := httputil.NewSingleHostReverseProxy(upstream)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, "/big/")
		if !ok {
			http.NotFound(w, r)
			return
		}
		b.mu.Lock()
		r.URL.Path = "/" + b.form + "/" + rest
		if strings.Contains(rest, "/shards/") {
			b.shards++
		}
		b.mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	b.URL = srv.URL + "/big"
	return b
}

// TestBigChannel is issue 15's build acceptance on the conda-forge-sized
// fixture (460,000 linux-64 records; make scale runs it, make test does
// not): a definition without a lock builds through # syntax= (buildctl and
// buildx) and through envkit build, from the sharded and the monolithic
// form, the image runs, and every way gives the same image digest; both
// forms give the same lock; a second build on the same builder fetches no
// shard.
func TestBigChannel(t *testing.T) {
	if os.Getenv("ENVKIT_BIG_CHANNEL") == "" {
		t.Skip("the conda-forge-sized channel is make scale's (ENVKIT_BIG_CHANNEL=1)")
	}
	if len(fixtures.BigChannelRoots(env.fixtures)) == 0 {
		t.Fatalf("no big channel in %s: make big-channel makes it", env.fixtures)
	}
	big := newBigChannel(t)
	def := helloDefinition(big.URL)
	digests := map[string]string{}
	locks := map[string]string{}
	for _, form := range []string{"big-channel-sharded", "big-channel"} {
		big.serve(form)
		builder := freshBuilder(t)
		dir := writeFiles(t, map[string]string{"environment.yml": "# syntax=" + frontendImage(t) + "\n" + def})
		file := filepath.Join(dir, "environment.yml")
		repo := env.Registry + "/envkit/" + form
		syntax := func(tag string) string {
			meta := filepath.Join(t.TempDir(), tag+".json")
			start := time.Now()
			run(t, 30*time.Minute, "buildctl", "--addr", builder, "build", "--progress", "plain", "--frontend", "dockerfile.v0",
				"--local", "context="+dir, "--local", "dockerfile="+dir, "--opt", "filename=environment.yml",
				"--opt", "build-arg:SOURCE_DATE_EPOCH="+epoch, "--output", imageOutput(repo+":"+tag), "--metadata-file", meta)
			t.Logf("%s: buildctl # syntax= without a lock (%s): %s", form, tag, time.Since(start).Round(time.Millisecond))
			return metadataDigest(t, meta)
		}
		digests[form+" buildctl"] = syntax("buildctl")
		fetched := big.shardsFetched()
		if strings.HasSuffix(form, "sharded") && fetched == 0 {
			t.Errorf("%s: the build fetched no shard", form)
		}
		if again := syntax("again"); again != digests[form+" buildctl"] {
			t.Errorf("%s: second build %s, first %s", form, again, digests[form+" buildctl"])
		}
		if n := big.shardsFetched(); n != 0 {
			t.Errorf("%s: the second build on the builder fetched %d shards again", form, n)
		}

		name := "envkit-big-" + filepath.Base(t.TempDir())
		run(t, time.Minute, "docker-buildx", "create", "--name", name, "--driver", "remote", builder)
		t.Cleanup(func() { runErr(time.Minute, nil, "docker-buildx", "rm", name) })
		meta := filepath.Join(t.TempDir(), "buildx.json")
		run(t, 30*time.Minute, "docker-buildx", "build", "--builder", name, "--progress", "plain",
			"-f", file, "--provenance=false", "--sbom=false", "--build-arg", "SOURCE_DATE_EPOCH="+epoch,
			"--output", imageOutput(repo+":buildx"), "--metadata-file", meta, dir)
		digests[form+" buildx"] = metadataDigest(t, meta)

		// envkit build locks on the host first (the CLI reads the same form).
		meta = filepath.Join(t.TempDir(), "envkit.json")
		start := time.Now()
		run(t, 30*time.Minute, "envkit", "build", file, "--addr", builder, "--progress", "plain",
			"--build-arg", "SOURCE_DATE_EPOCH="+epoch, "--output", imageOutput(repo+":envkit"), "--metadata-file", meta)
		t.Logf("%s: envkit build, locking first: %s", form, time.Since(start).Round(time.Millisecond))
		digests[form+" envkit build"] = metadataDigest(t, meta)
		lockData, err := os.ReadFile(filepath.Join(dir, "conda-lock.yml"))
		if err != nil {
			t.Fatal(err)
		}
		locks[form] = lockPins(string(lockData))
	}
	want := digests["big-channel-sharded buildctl"]
	for way, d := range digests {
		if d != want {
			t.Errorf("%s: %s, sharded buildctl: %s", way, d, want)
		}
	}
	if locks["big-channel"] != locks["big-channel-sharded"] {
		t.Errorf("the forms locked differently:\nmonolithic:\n%s\nsharded:\n%s", locks["big-channel"], locks["big-channel-sharded"])
	}
	checkHello(t, env.Registry+"/envkit/big-channel-sharded@"+want)
}

// lockPins are a lock's package lines (url and hash), the part both forms
// must agree on (the lock's time and sources may differ).
func lockPins(lock string) string {
	var out []string
	for _, line := range strings.Split(lock, "\n") {
		if s := strings.TrimSpace(line); strings.HasPrefix(s, "url:") || strings.HasPrefix(s, "sha256:") || strings.HasPrefix(s, "md5:") {
			out = append(out, s)
		}
	}
	return strings.Join(out, "\n")
}
