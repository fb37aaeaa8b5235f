package shards

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/envkit/envkit/internal/conda/channel"
	"github.com/envkit/envkit/internal/conda/fetch"
	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/envkit/envkit/internal/conformance"
	"github.com/envkit/envkit/internal/netfetch"
	"github.com/vmihailenco/msgpack/v5"
)

// genRecords makes the records of one package name with the variants
// real repodata has: .conda beside .tar.bz2, timestamps in seconds and
// milliseconds, track_features as a string or a list, noarch as a
// string or a boolean, extra keys envkit does not read.
func genRecords(rng *rand.Rand, name string, n int) map[string]Raw {
	out := map[string]Raw{}
	for i := range n {
		version := fmt.Sprintf("%d.%d.%d", rng.IntN(4), rng.IntN(20), i)
		build := fmt.Sprintf("h%07x_%d", rng.Uint32()>>4, i%3)
		sum := sha256.Sum256([]byte(name + version + build))
		md := md5.Sum([]byte(name + version + build))
		r := Raw{
			"name": name, "version": version, "build": build,
			"build_number": json.Number(fmt.Sprint(i % 3)),
			"depends":      []any{"python >=3.8,<3.13", fmt.Sprintf("libdep%d >=%d", rng.IntN(9), rng.IntN(5))},
			"license":      "MIT", "subdir": "linux-64",
			"sha256": hex.EncodeToString(sum[:]), "md5": hex.EncodeToString(md[:]),
			"size":      json.Number(fmt.Sprint(1000 + rng.IntN(1<<20))),
			"timestamp": json.Number(fmt.Sprint(1600000000000 + rng.Int64N(1e11))),
			"arch":      "x86_64", "platform": "linux",
			"run_exports": map[string]any{"weak": []any{name + " >=" + version}},
		}
		switch i % 5 {
		case 1:
			r["timestamp"] = json.Number("1600000000") // seconds
			r["track_features"] = "feat_a feat_b"
		case 2:
			r["noarch"] = true
			r["constrains"] = []any{"other <2"}
		case 3:
			r["noarch"] = "python"
			r["track_features"] = []any{"x"}
		case 4:
			r["depends"] = []any{}
			r["constrains"] = []any(nil) // null in JSON
			r["license_family"] = "BSD"
		}
		ext := ".tar.bz2"
		if i%2 == 0 {
			ext = ".conda"
		}
		out[name+"-"+version+"-"+build+ext] = r
	}
	return out
}

// viaJSON reads records the way a monolithic repodata.json is read.
func viaJSON(t *testing.T, ch, subdir string, records map[string]Raw, removed []string) []repodata.Record {
	t.Helper()
	doc := map[string]any{"info": map[string]any{"subdir": subdir}, "packages": map[string]Raw{}, "packages.conda": map[string]Raw{}, "removed": removed}
	for fn, r := range records {
		key := "packages"
		if strings.HasSuffix(fn, ".conda") {
			key = "packages.conda"
		}
		doc[key].(map[string]Raw)[fn] = r
	}
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	rd, err := repodata.Parse(ch, subdir, data)
	if err != nil {
		t.Fatal(err)
	}
	return rd.Records
}

// place reads a shard's records as the Fetcher does.
func place(t *testing.T, ch, subdir string, s *Shard) []repodata.Record {
	t.Helper()
	recs, err := repodata.Place(ch, ch, repodata.Info{Subdir: subdir}, s.Packages, s.Conda, s.Removed)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestShardRecordsEqualRepodataJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const ch = "https://conda.example/ch"
	for _, n := range []int{1, 7, 300} {
		records := genRecords(rng, "pkg", n)
		var removed []string
		for fn := range records {
			if n > 1 {
				removed = append(removed, fn) // one removed record
			}
			break
		}
		zst, sum, err := EncodeShard(records, removed)
		if err != nil {
			t.Fatal(err)
		}
		s, err := DecodeShard(zst, sum)
		if err != nil {
			t.Fatal(err)
		}
		got, want := place(t, ch, "linux-64", s), viaJSON(t, ch, "linux-64", records, removed)
		if len(want) == 0 || !reflect.DeepEqual(got, want) {
			t.Fatalf("%d records: shard gives\n%+v\nrepodata.json gives\n%+v", n, got, want)
		}
	}
}

func TestEncodeDeterministic(t *testing.T) {
	records := genRecords(rand.New(rand.NewPCG(3, 4)), "det", 50)
	a, sa, err := EncodeShard(records, []string{"z-1-0.conda", "a-1-0.conda"})
	if err != nil {
		t.Fatal(err)
	}
	// Maps iterate in a new order each time: the bytes must not follow it.
	for range 5 {
		b, sb, _ := EncodeShard(records, []string{"a-1-0.conda", "z-1-0.conda"})
		if !bytes.Equal(a, b) || sa != sb {
			t.Fatal("EncodeShard gave different bytes for the same records")
		}
	}
	ix := &Index{Info: Info{Subdir: "noarch", ShardsBaseURL: "./shards/"}, Shards: map[string]Sum{"a": sa, "b": {1}, "c": {2}}}
	if !bytes.Equal(EncodeIndex(ix), EncodeIndex(ix)) {
		t.Fatal("EncodeIndex gave different bytes")
	}
	got, err := DecodeIndex(EncodeIndex(ix))
	if err != nil {
		t.Fatal(err)
	}
	ix.Version = Version
	if !reflect.DeepEqual(got, ix) {
		t.Fatalf("index round trip: %+v, want %+v", got, ix)
	}
}

// conformanceChannel is conda-index's own sharded output (hex strings
// for the checksums, shards beside the index).
func conformanceChannel(t *testing.T) channel.Channel {
	dir := conformance.Dir(t, "channels", "conda_format_repo")
	u := "file://" + dir
	return channel.Channel{Name: u, URL: u, Location: u}
}

func TestConformanceShardsEqualRepodataJSON(t *testing.T) {
	ch := conformanceChannel(t)
	f := &Fetcher{}
	sd, err := f.Open(context.Background(), ch, "linux-64")
	if err != nil || sd == nil {
		t.Fatalf("Open: %v, %v", sd, err)
	}
	var names []string
	for name := range sd.Index.Shards {
		names = append(names, name)
	}
	byName, err := f.Records(context.Background(), sd, names)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(strings.TrimPrefix(ch.URL, "file://"), "linux-64", "repodata.json"))
	if err != nil {
		t.Fatal(err)
	}
	rd, err := repodata.Parse(ch.URL, "linux-64", data)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]repodata.Record{}
	for _, r := range rd.Records {
		want[r.Name] = append(want[r.Name], r)
	}
	if len(byName) != 2 || !reflect.DeepEqual(byName, want) {
		t.Fatalf("shards give\n%+v\nrepodata.json gives\n%+v", byName, want)
	}
	// A subdir without an index is no error: the caller reads repodata.json.
	if sd, err := f.Open(context.Background(), ch, "noarch"); sd != nil || err != nil {
		t.Fatalf("noarch without an index: %v, %v", sd, err)
	}
}

// zst compresses test data.
func zst(t testing.TB, data []byte) []byte { return Compress(data) }

func encode(t testing.TB, v any) []byte {
	b, err := msgpack.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBadShards(t *testing.T) {
	good, sum, err := EncodeShard(genRecords(rand.New(rand.NewPCG(5, 6)), "good", 3), nil)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := fetch.Decompress(bytes.NewReader(good), fetch.Zstd, MaxShard)
	if err != nil {
		t.Fatal(err)
	}
	bomb := zst(t, make([]byte, MaxShard+1))
	// An unknown key (skipped) holding 100,000 nested arrays.
	deep := zst(t, append(append([]byte{0x81, 0xa5}, "extra"...), bytes.Repeat([]byte{0x91}, 100000)...))
	// A record field stated as a 4 GiB bin32, the input ending there.
	huge := encode(t, map[string]any{"packages.conda": map[string]any{"a-1-0.conda": map[string]any{"x": nil}}})
	huge = zst(t, append(huge[:len(huge)-1], 0xc6, 0xff, 0xff, 0xff, 0xff))
	for _, c := range []struct {
		name string
		data []byte
		sum  Sum // the data's own sum when zero
		want string
	}{
		{"bytes not matching the sha256", good, Sum{1, 2, 3}, "the index says 010203"},
		// A mismatching bomb is refused before any of it is decompressed.
		{"bomb under a wrong sha256", bomb, sum, "the shard is damaged or was replaced"},
		{"zstd bomb", bomb, Sum{}, "decompresses to more than 134217728 bytes"},
		{"truncated zstd", good[:len(good)/2], Sum{}, "zstd"},
		{"truncated msgpack", zst(t, plain[:len(plain)*2/3]), Sum{}, "truncated msgpack data"},
		{"not msgpack", zst(t, []byte(`{"packages": {}}`)), Sum{}, "want a map, got an integer"},
		{"not zstd", []byte("packages"), Sum{}, "zstd"},
		{"record not a map", zst(t, encode(t, map[string]any{"packages": map[string]any{"a-1-0.tar.bz2": "x"}})), Sum{}, "packages: package a-1-0.tar.bz2: record: want a map, got a string"},
		{"bad key", zst(t, encode(t, map[string]any{"packages": map[string]any{"a-1-0.zip": map[string]any{}}})), Sum{}, `key "a-1-0.zip" is not a package filename`},
		{"bad sha256", zst(t, encode(t, map[string]any{"packages.conda": map[string]any{"a-1-0.conda": map[string]any{"sha256": []byte{1, 2}}}})), Sum{}, "sha256: want 32 bytes"},
		{"nested too deep", deep, Sum{}, fmt.Sprintf("nested more than %d deep", repodata.MaxDepth)},
		{"a 4 GiB string in 20 bytes", huge, Sum{}, "truncated msgpack data"},
		{"trailing bytes", zst(t, append(encode(t, map[string]any{}), 0xc0)), Sum{}, "1 bytes after the msgpack document"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := c.sum
			if s == (Sum{}) {
				s = sha256.Sum256(c.data)
			}
			_, err := DecodeShard(c.data, s)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

func TestBadIndex(t *testing.T) {
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"short sha256", zst(t, encode(t, map[string]any{"shards": map[string]any{"numpy": []byte{1}}})), "shards.numpy: want 32 bytes"},
		{"newer version", zst(t, encode(t, map[string]any{"version": 2})), "index version 2: envkit reads version 1"},
		{"not a map", zst(t, encode(t, []string{"a"})), "index: want a map, got an array"},
		{"bomb", zst(t, make([]byte, MaxIndex+1)), "decompresses to more than"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := DecodeIndex(c.data)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// server serves a sharded subdir built by EncodeIndex/EncodeShard,
// counting shard requests; a name in missing has its shard deleted.
type server struct {
	files  map[string][]byte
	shards atomic.Int64
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	data, ok := s.files[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if strings.Contains(r.URL.Path, "/shards/") {
		s.shards.Add(1)
	}
	w.Write(data)
}

func newServer(t *testing.T, names []string, missing string) (*server, channel.Channel) {
	s := &server{files: map[string][]byte{}}
	ix := &Index{Info: Info{Subdir: "linux-64", BaseURL: "../pkgs/", ShardsBaseURL: "./shards/"}, Shards: map[string]Sum{}}
	rng := rand.New(rand.NewPCG(7, 8))
	for _, name := range names {
		zst, sum, err := EncodeShard(genRecords(rng, name, 4), nil)
		if err != nil {
			t.Fatal(err)
		}
		ix.Shards[name] = sum
		if name != missing {
			s.files["/ch/linux-64/shards/"+sum.File()] = zst
		}
	}
	s.files["/ch/linux-64/"+IndexFile] = EncodeIndex(ix)
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	u := hs.URL + "/ch"
	return s, channel.Channel{Name: "test-channel", URL: "https://canonical.example/ch", Location: u}
}

func TestFetcher(t *testing.T) {
	names := []string{"a", "b", "c", "d", "e"}
	srv, ch := newServer(t, names, "")
	cache := t.TempDir()
	ctx := context.Background()
	f := &Fetcher{CacheDir: cache, Parallel: 2}
	sd, err := f.Open(ctx, ch, "linux-64")
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.Records(ctx, sd, []string{"a", "c", "e", "not-in-channel"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || len(got["a"]) != 4 || srv.shards.Load() != 3 {
		t.Fatalf("%d names, %d shard requests", len(got), srv.shards.Load())
	}
	// Records belong to the canonical channel; archives live under
	// base_url, relative to the index at the location.
	r := got["c"][0]
	if r.Channel != ch.URL || r.URL != ch.Location+"/pkgs/"+r.Filename || r.Subdir != "linux-64" {
		t.Fatalf("record placed at %s (channel %s, subdir %s)", r.URL, r.Channel, r.Subdir)
	}
	// A second Fetcher on the same cache fetches no shard again.
	f2 := &Fetcher{CacheDir: cache}
	sd2, err := f2.Open(ctx, ch, "linux-64")
	if err != nil {
		t.Fatal(err)
	}
	again, err := f2.Records(ctx, sd2, []string{"a", "c", "e"})
	if err != nil || srv.shards.Load() != 3 || !reflect.DeepEqual(again, got) {
		t.Fatalf("from the cache: %v, %d shard requests", err, srv.shards.Load())
	}
	if n, _ := f2.Transferred(); n != 1 { // the index only
		t.Fatalf("%d downloads, want the index only", n)
	}
	// A damaged cache file is fetched again.
	sum := sd.Index.Shards["a"]
	if err := os.WriteFile(filepath.Join(cache, "shards", sum.File()), []byte("damaged"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := (&Fetcher{CacheDir: cache}).Records(ctx, sd, []string{"a"}); err != nil || srv.shards.Load() != 4 {
		t.Fatalf("damaged cache: %v, %d shard requests", err, srv.shards.Load())
	}
	// No index: no error, the caller falls back to repodata.json.
	if sd, err := f.Open(ctx, ch, "noarch"); sd != nil || err != nil {
		t.Fatalf("no index: %v, %v", sd, err)
	}
}

func TestFetcherErrors(t *testing.T) {
	ctx := context.Background()
	_, ch := newServer(t, []string{"numpy", "scipy"}, "scipy")
	f := &Fetcher{Net: &netfetch.Client{Attempts: 1, Backoff: time.Millisecond}}
	sd, err := f.Open(ctx, ch, "linux-64")
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Records(ctx, sd, []string{"numpy", "scipy"})
	want := "channel test-channel, subdir linux-64: package scipy: "
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "names a shard the channel does not have") {
		t.Fatalf("missing shard: %v", err)
	}

	// A shard replaced on the server under the same name.
	srv, ch := newServer(t, []string{"pandas"}, "")
	for path := range srv.files {
		if strings.Contains(path, "/shards/") {
			srv.files[path] = zst(t, encode(t, map[string]any{}))
		}
	}
	sd, err = f.Open(ctx, ch, "linux-64")
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Records(ctx, sd, []string{"pandas"})
	var ce *ChecksumError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "channel test-channel, subdir linux-64: package pandas: ") {
		t.Fatalf("replaced shard: %v", err)
	}

	// A damaged index names the channel and subdir.
	srv.files["/ch/linux-64/"+IndexFile] = []byte("not zstd")
	if _, err := f.Open(ctx, ch, "linux-64"); err == nil || !strings.Contains(err.Error(), "channel test-channel, subdir linux-64: ") {
		t.Fatalf("damaged index: %v", err)
	}
}

// A Subdir alone, as a BuildKit frontend uses it: it names each shard's
// URL (to fetch as a source pinned by the sha256) and reads the bytes
// it is handed, checked first.
func TestSubdirWithoutFetcher(t *testing.T) {
	records := genRecords(rand.New(rand.NewPCG(21, 22)), "torch", 6)
	zst, sum, err := EncodeShard(records, nil)
	if err != nil {
		t.Fatal(err)
	}
	ix, err := DecodeIndex(EncodeIndex(&Index{Info: Info{ShardsBaseURL: "https://cdn.example/shards/"}, Shards: map[string]Sum{"torch": sum}}))
	if err != nil {
		t.Fatal(err)
	}
	ch := channel.Channel{Name: "ml", URL: "https://conda.example/ml", Location: "https://mirror.example/ml"}
	sd, err := NewSubdir(ch, "linux-64", ch.Location+"/linux-64/"+IndexFile, ix)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := sd.ShardURL(sum), "https://cdn.example/shards/"+sum.String()+".msgpack.zst"; got != want {
		t.Fatalf("shard URL %s, want %s", got, want)
	}
	recs, err := sd.Records("torch", zst)
	if err != nil || len(recs) != 6 {
		t.Fatalf("%d records: %v", len(recs), err)
	}
	if r := recs[0]; r.Channel != ch.URL || r.URL != ch.Location+"/linux-64/"+r.Filename {
		t.Fatalf("record placed at %s, channel %s", r.URL, r.Channel)
	}
	var ce *ChecksumError
	if _, err := sd.Records("torch", append([]byte{0}, zst...)); !errors.As(err, &ce) || !strings.Contains(err.Error(), "channel ml, subdir linux-64: package torch: ") {
		t.Fatalf("tampered shard: %v", err)
	}
	if _, err := sd.Records("numpy", zst); err == nil || !strings.Contains(err.Error(), "package numpy: not in the shard index") {
		t.Fatalf("unknown name: %v", err)
	}
}
