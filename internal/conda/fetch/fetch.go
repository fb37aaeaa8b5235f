// Package fetch reads channel repodata over http(s) and file:// URLs,
// keeping an on-disk cache revalidated with ETag and Last-Modified.
package fetch

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/envkit/envkit/internal/conda/channel"
	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/envkit/envkit/internal/netfetch"
)

// EnvCacheDir overrides the cache directory.
const EnvCacheDir = "ENVKIT_CACHE_DIR"

// maxRepodataDownload bounds the bytes of one repodata.json (or its
// .zst) as read, before decompression: the bound of the decompressed
// JSON, which a plain file is (conda-forge's linux-64 is about 250 MB).
const maxRepodataDownload = MaxRepodata

// Client fetches repodata. The zero value fetches without a cache.
type Client struct {
	// Net downloads; netfetch.Default when nil.
	Net *netfetch.Client
	// CacheDir holds cached responses; no caching when empty.
	CacheDir string

	requests, bytes atomic.Int64
}

// Transferred reports the reads made so far (HTTP requests, 304s
// included, and file:// reads) and their bytes as transferred, before
// decompression; cache hits transfer nothing.
func (c *Client) Transferred() (requests, bytes int64) {
	return c.requests.Load(), c.bytes.Load()
}

// DefaultCacheDir is $ENVKIT_CACHE_DIR, else $XDG_CACHE_HOME/envkit, else
// ~/.cache/envkit; repodata goes in its "repodata" subdirectory.
func DefaultCacheDir(getenv func(string) string) (string, error) {
	if d := getenv(EnvCacheDir); d != "" {
		return d, nil
	}
	if d := getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "envkit"), nil
	}
	home := getenv("HOME")
	if home == "" {
		return "", fmt.Errorf("no cache directory: set %s, XDG_CACHE_HOME or HOME", EnvCacheDir)
	}
	return filepath.Join(home, ".cache", "envkit"), nil
}

// NotFoundError is a 404 (or a missing file) for a URL.
type NotFoundError struct{ URL string }

func (e *NotFoundError) Error() string { return e.URL + ": not found" }

// Unwrap makes a NotFoundError fs.ErrNotExist, which netfetch.NotFound
// recognises.
func (e *NotFoundError) Unwrap() error { return fs.ErrNotExist }

// Repodata reads <location>/<subdir>/repodata.json of a channel and parses
// it. As in conda, a platform subdir the channel does not have is empty,
// but a missing noarch means the URL is not a channel: an error naming it.
func (c *Client) Repodata(ctx context.Context, ch channel.Channel, subdir string) (*repodata.Repodata, error) {
	u, data, ok, err := c.RepodataJSON(ctx, ch, subdir)
	switch {
	case err != nil:
		return nil, err
	case !ok:
		return &repodata.Repodata{Info: repodata.Info{Subdir: subdir}}, nil
	}
	rd, err := repodata.ParseMirrored(ch.URL, ch.Location, subdir, data)
	if err != nil {
		return nil, Located(u, err)
	}
	return rd, nil
}

// RepodataJSON returns the URL of a channel subdir's repodata.json and
// its bytes (decompressed from its .zst when that is what was read),
// for readers that decode it themselves. A platform subdir the channel
// does not have gives ok false and no error (an empty subdir); a missing
// noarch is an error naming the channel, as in Repodata.
func (c *Client) RepodataJSON(ctx context.Context, ch channel.Channel, subdir string) (u string, data []byte, ok bool, err error) {
	u = ch.Location + "/" + subdir + "/repodata.json"
	data, err = c.repodataJSON(ctx, u)
	var nf *NotFoundError
	switch {
	case errors.As(err, &nf) && subdir != "noarch":
		return u, nil, false, nil
	case errors.As(err, &nf):
		return u, nil, false, fmt.Errorf("channel %s: %s not found: not a conda channel (every channel has noarch/repodata.json)", ch.Name, u)
	case err != nil:
		return u, nil, false, err
	}
	return u, data, true, nil
}

// Located prefixes a decoding error of the repodata at u with its URL:
// syntax errors start with LINE:COL, which become URL:LINE:COL.
func Located(u string, err error) error {
	if msg := err.Error(); msg[0] >= '0' && msg[0] <= '9' {
		return fmt.Errorf("%s:%w", u, err)
	}
	return fmt.Errorf("%s: %w", u, err)
}

// LoadIndex reads the platform and noarch subdirs of every channel
// (priority order) and indexes them with the extra records (virtual
// packages).
func (c *Client) LoadIndex(ctx context.Context, chans []channel.Channel, platform string, extra ...[]repodata.Record) (*repodata.Index, error) {
	records, err := c.LoadRecords(ctx, chans, platform)
	if err != nil {
		return nil, err
	}
	order := make([]string, 0, len(chans))
	for _, ch := range chans {
		order = append(order, ch.URL)
	}
	return repodata.NewIndex(order, append(records, extra...)...), nil
}

// LoadRecords reads the platform and noarch subdirs of every channel and
// returns their records, one slice per subdir in channel order (callers
// that index the same records several times keep them). The subdirs are
// fetched concurrently; the first error in channel order is reported.
func (c *Client) LoadRecords(ctx context.Context, chans []channel.Channel, platform string) ([][]repodata.Record, error) {
	subdirs := []string{platform, "noarch"}
	if platform == "noarch" {
		subdirs = subdirs[:1]
	}
	type job struct {
		ch     channel.Channel
		subdir string
		rd     *repodata.Repodata
		err    error
	}
	jobs := make([]job, 0, len(chans)*len(subdirs))
	for _, ch := range chans {
		for _, sd := range subdirs {
			jobs = append(jobs, job{ch: ch, subdir: sd})
		}
	}
	var wg sync.WaitGroup
	for i := range jobs {
		wg.Add(1)
		go func(j *job) {
			defer wg.Done()
			j.rd, j.err = c.Repodata(ctx, j.ch, j.subdir)
		}(&jobs[i])
	}
	wg.Wait()
	records := make([][]repodata.Record, 0, len(jobs))
	for _, j := range jobs {
		if j.err != nil {
			return nil, j.err
		}
		records = append(records, j.rd.Records)
	}
	return records, nil
}

// repodataJSON returns the bytes of a repodata.json URL: file:// read as
// is (or its .zst), http(s) through the cache, trying the .zst first.
func (c *Client) repodataJSON(ctx context.Context, u string) ([]byte, error) {
	parsed, err := url.Parse(u)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", u, err)
	}
	switch parsed.Scheme {
	case "file":
		data, err := c.read(ctx, u)
		if netfetch.NotFound(err) {
			zst, zerr := c.read(ctx, u+".zst")
			if zerr == nil {
				return DecompressRepodata(u+".zst", zst)
			}
			return nil, &NotFoundError{URL: u}
		}
		return data, err
	case "http", "https":
		return c.get(ctx, u)
	default:
		return nil, fmt.Errorf("%s: unsupported scheme %q", u, parsed.Scheme)
	}
}

// read reads a file:// URL, bounded as a download is.
func (c *Client) read(ctx context.Context, u string) ([]byte, error) {
	data, err := netfetch.Or(c.Net).Get(ctx, netfetch.Request{URL: u, Limit: maxRepodataDownload})
	if err == nil {
		c.requests.Add(1)
		c.bytes.Add(int64(len(data)))
	}
	return data, err
}

// entry is the header line of a cache file; the body follows it.
type entry struct {
	URL          string `json:"url"`
	Variant      string `json:"variant"` // the URL actually fetched: u or u+".zst"
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
}

// get fetches a repodata.json over HTTP. A cached copy is revalidated
// with a conditional GET of the variant it came from; without one, the
// .zst is tried first and a 404 falls back to the plain JSON.
func (c *Client) get(ctx context.Context, u string) ([]byte, error) {
	cached, body, ok := c.readCache(u)
	if ok {
		data, fresh, err := c.request(ctx, u, cached.Variant, &cached, maxRepodataDownload, true)
		var nf *NotFoundError
		switch {
		case err == nil && !fresh:
			return body, nil
		case err == nil:
			return data, nil
		case !errors.As(err, &nf):
			return nil, err
		}
		// The variant is gone: start over.
	}
	data, _, err := c.request(ctx, u, u+".zst", nil, maxRepodataDownload, true)
	var nf *NotFoundError
	if errors.As(err, &nf) {
		data, _, err = c.request(ctx, u, u, nil, maxRepodataDownload, true)
	}
	return data, err
}

// Revalidated returns the bytes of u as served, at most limit of them:
// over http(s) through the cache, a cached copy revalidated with a
// conditional GET (a 304 transfers no body); a file:// URL read as is. It
// is for small files read on every run, such as a CEP 16 shard index.
func (c *Client) Revalidated(ctx context.Context, u string, limit int64) ([]byte, error) {
	if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		data, err := netfetch.Or(c.Net).Get(ctx, netfetch.Request{URL: u, Limit: limit})
		if err == nil {
			c.requests.Add(1)
			c.bytes.Add(int64(len(data)))
		}
		return data, err
	}
	if cached, body, ok := c.readCache(u); ok {
		data, fresh, err := c.request(ctx, u, u, &cached, limit, false)
		switch {
		case err != nil:
			return nil, err
		case !fresh:
			return body, nil
		}
		return data, nil
	}
	data, _, err := c.request(ctx, u, u, nil, limit, false)
	return data, err
}

// request GETs variant, conditionally when prev is given, and caches it
// under key. It returns the body (decompressed when decode is set and the
// variant is a .zst) and true, or false when the server answered 304. A
// 200 is written to the cache.
func (c *Client) request(ctx context.Context, key, variant string, prev *entry, limit int64, decode bool) ([]byte, bool, error) {
	header := http.Header{}
	if prev != nil {
		if prev.ETag != "" {
			header.Set("If-None-Match", prev.ETag)
		}
		if prev.LastModified != "" {
			header.Set("If-Modified-Since", prev.LastModified)
		}
	}
	var (
		raw         []byte
		notModified bool
		e           = entry{URL: key, Variant: variant}
	)
	err := netfetch.Or(c.Net).Fetch(ctx, netfetch.Request{URL: variant, Header: header, Limit: limit}, func(r *netfetch.Response) error {
		if notModified = r.StatusCode == http.StatusNotModified; notModified {
			return nil
		}
		e.ETag, e.LastModified = r.Header.Get("ETag"), r.Header.Get("Last-Modified")
		var err error
		raw, err = netfetch.ReadAll(r.Body)
		return err
	})
	switch {
	case netfetch.NotFound(err):
		return nil, false, &NotFoundError{URL: variant}
	case err != nil:
		return nil, false, err
	}
	c.requests.Add(1)
	c.bytes.Add(int64(len(raw)))
	switch {
	case notModified && prev != nil:
		return nil, false, nil
	case notModified:
		return nil, false, fmt.Errorf("GET %s: 304 Not Modified to an unconditional request", variant)
	}
	data := raw
	if decode && strings.HasSuffix(variant, ".zst") {
		if data, err = DecompressRepodata(variant, raw); err != nil {
			return nil, false, err
		}
	}
	if err := c.writeCache(e, data); err != nil {
		return nil, false, err
	}
	return data, true, nil
}

func (c *Client) cachePath(u string) string {
	sum := sha256.Sum256([]byte(u))
	return filepath.Join(c.CacheDir, "repodata", hex.EncodeToString(sum[:16])+".json")
}

// readCache returns the cached entry of u and its body. A damaged or
// foreign cache file counts as absent.
func (c *Client) readCache(u string) (entry, []byte, bool) {
	if c.CacheDir == "" {
		return entry{}, nil, false
	}
	data, err := os.ReadFile(c.cachePath(u))
	if err != nil {
		return entry{}, nil, false
	}
	header, body, ok := bytes.Cut(data, []byte("\n"))
	var e entry
	if !ok || json.Unmarshal(header, &e) != nil || e.URL != u || e.ETag == "" && e.LastModified == "" {
		return entry{}, nil, false
	}
	return e, body, true
}

// writeCache stores header and body in one file, atomically: a reader
// sees the old entry or the new one, never a mix.
func (c *Client) writeCache(e entry, body []byte) error {
	if c.CacheDir == "" || e.ETag == "" && e.LastModified == "" {
		return nil
	}
	path := c.cachePath(e.URL)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("repodata cache: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("repodata cache: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	header, err := json.Marshal(e)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(tmp)
	w.Write(header)
	w.WriteByte('\n')
	w.Write(body)
	if err := w.Flush(); err != nil {
		tmp.Close()
		return fmt.Errorf("repodata cache: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("repodata cache: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("repodata cache: %w", err)
	}
	return nil
}
