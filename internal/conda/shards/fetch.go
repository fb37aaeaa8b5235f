package shards

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/envkit/envkit/internal/conda/channel"
	"github.com/envkit/envkit/internal/conda/fetch"
	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/envkit/envkit/internal/netfetch"
)

// maxIndexDownload bounds an index as transferred (conda-forge's
// linux-64: 670 kB).
const maxIndexDownload = 64 << 20

// defaultParallel is how many shards are fetched at once: enough to
// hide round trips, few enough for a small server.
const defaultParallel = 16

// Fetcher reads sharded repodata: a subdir's index, then the shards of
// the names asked for, many at a time. Shards are cached by sha256 in
// memory and, with CacheDir, on disk; a cached shard is never fetched
// or revalidated again, its name being its content. The zero value
// works, with netfetch.Default and no disk cache. A Fetcher is safe
// for concurrent use.
type Fetcher struct {
	// Net downloads; netfetch.Default when nil.
	Net *netfetch.Client
	// CacheDir holds shards as shards/<sha256 hex>.msgpack.zst; no disk
	// cache when empty.
	CacheDir string
	// Parallel is how many shards are fetched at once; 16 when 0 or less.
	Parallel int
	// Index, when set, reads the indexes through its revalidating cache
	// (a conditional GET: an unchanged index transfers no body); without
	// it an index is downloaded on every Open. Shards need no
	// revalidation: their names are their content.
	Index *fetch.Client

	mu  sync.Mutex
	mem map[Sum][]byte // compressed shards, checked

	requests, bytes atomic.Int64
}

// Transferred reports the downloads made so far (shards, and indexes
// read without Index; not cache hits) and their bytes as transferred.
func (f *Fetcher) Transferred() (requests, bytes int64) {
	return f.requests.Load(), f.bytes.Load()
}

// Open fetches the shard index of a channel subdir. A channel without
// one (404, a missing file) gives nil and no error: read its
// repodata.json instead.
func (f *Fetcher) Open(ctx context.Context, ch channel.Channel, subdir string) (*Subdir, error) {
	u := ch.Location + "/" + subdir + "/" + IndexFile
	var zst []byte
	var err error
	if f.Index != nil {
		zst, err = f.Index.Revalidated(ctx, u, maxIndexDownload)
	} else {
		zst, err = f.get(ctx, u, maxIndexDownload)
	}
	if netfetch.NotFound(err) {
		return nil, nil
	}
	where := fmt.Sprintf("channel %s, subdir %s", ch.Name, subdir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	ix, err := DecodeIndex(zst)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", where, u, err)
	}
	return NewSubdir(ch, subdir, u, ix)
}

// Records returns the records of names in the subdir, each name's
// shard fetched (or taken from the cache) concurrently; a name the
// index lacks has no records, as in repodata.json.
func (f *Fetcher) Records(ctx context.Context, sd *Subdir, names []string) (map[string][]repodata.Record, error) {
	out := make(map[string][]repodata.Record, len(names))
	var mu sync.Mutex
	g, ctx := errgroup.WithContext(ctx)
	limit := f.Parallel
	if limit <= 0 {
		limit = defaultParallel
	}
	g.SetLimit(limit)
	for _, name := range names {
		sum, ok := sd.Index.Shards[name]
		if !ok {
			continue
		}
		g.Go(func() error {
			zst, err := f.shard(ctx, sd, sum)
			if err != nil {
				return fmt.Errorf("%s: package %s: %w", sd.where(), name, err)
			}
			recs, err := sd.Records(name, zst)
			if err != nil {
				return err
			}
			mu.Lock()
			out[name] = recs
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// shard returns the compressed shard of sum, checked against it: from
// memory, the disk cache or the channel.
func (f *Fetcher) shard(ctx context.Context, sd *Subdir, sum Sum) ([]byte, error) {
	f.mu.Lock()
	zst, ok := f.mem[sum]
	f.mu.Unlock()
	if ok {
		return zst, nil
	}
	if f.CacheDir != "" {
		// A damaged cache file is fetched again (and replaced).
		if zst, err := os.ReadFile(f.cachePath(sum)); err == nil && Sum(sha256.Sum256(zst)) == sum {
			f.remember(sum, zst)
			return zst, nil
		}
	}
	u := sd.ShardURL(sum)
	zst, err := f.get(ctx, u, MaxShard)
	if netfetch.NotFound(err) {
		return nil, fmt.Errorf("%s: not found: the index %s names a shard the channel does not have (the index is newer or older than its shards; index the channel again)", u, sd.URL)
	}
	if err != nil {
		return nil, err
	}
	if got := Sum(sha256.Sum256(zst)); got != sum {
		return nil, fmt.Errorf("%s: %w", u, &ChecksumError{Want: sum, Got: got})
	}
	f.remember(sum, zst)
	if err := f.writeCache(sum, zst); err != nil {
		return nil, err
	}
	return zst, nil
}

func (f *Fetcher) remember(sum Sum, zst []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.mem == nil {
		f.mem = map[Sum][]byte{}
	}
	f.mem[sum] = zst
}

func (f *Fetcher) get(ctx context.Context, u string, limit int64) ([]byte, error) {
	data, err := netfetch.Or(f.Net).Get(ctx, netfetch.Request{URL: u, Limit: limit})
	if err == nil {
		f.requests.Add(1)
		f.bytes.Add(int64(len(data)))
	}
	return data, err
}

func (f *Fetcher) cachePath(sum Sum) string {
	return filepath.Join(f.CacheDir, "shards", sum.File())
}

// writeCache stores a checked shard under its sha256, atomically.
func (f *Fetcher) writeCache(sum Sum, zst []byte) error {
	if f.CacheDir == "" {
		return nil
	}
	path := f.cachePath(sum)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("shard cache: %w", err)
	}
	return writeFileAtomic(path, zst)
}

// writeFileAtomic writes data to path through a temporary file in the
// same directory: readers see the old file or the new one.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
