package index

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/envkit/envkit/internal/pypi/metadata"
)

// Metadata reads a wheel's core metadata as cheaply as the index allows:
// the PEP 658 .metadata file when offered, else only the zip directory and
// the METADATA member of the remote wheel through HTTP range requests (a
// 1 GB wheel costs a few small reads; a wheel under 64 kB, one), else the
// whole wheel, checked against its sha256. Reading metadata never needs the wheel's bytes to be
// trusted: the install checks them against the lock.
func (c *Client) Metadata(ctx context.Context, f File) (metadata.Metadata, error) {
	if f.MetadataURL != "" {
		data, err := c.Fetch(ctx, f.MetadataURL, f.MetadataSHA256)
		if err != nil {
			return metadata.Metadata{}, err
		}
		m, err := metadata.Parse(data)
		if err != nil {
			return metadata.Metadata{}, fmt.Errorf("%s: %v", f.MetadataURL, err)
		}
		return m, nil
	}
	if strings.HasPrefix(f.URL, "http://") || strings.HasPrefix(f.URL, "https://") {
		m, ok, err := c.tailMetadata(ctx, f)
		if ok || err != nil {
			return m, err
		}
	}
	data, err := c.Fetch(ctx, f.URL, f.SHA256)
	if err != nil {
		return metadata.Metadata{}, err
	}
	return metadata.FromWheel(data)
}

// tailMetadata asks for the last 64 kB of the wheel (where the zip
// directory is), as pip's lazy wheel does. A small wheel comes whole in
// that one answer; a big one is then read by ranges. ok is false when the
// server does not answer ranges.
func (c *Client) tailMetadata(ctx context.Context, f File) (metadata.Metadata, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.URL, nil)
	if err != nil {
		return metadata.Metadata{}, false, err
	}
	req.Header.Set("Range", "bytes=-"+strconv.Itoa(rangeBlock))
	resp, err := c.http.Do(req)
	if err != nil {
		return metadata.Metadata{}, false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent && resp.StatusCode != http.StatusOK {
		return metadata.Metadata{}, false, nil
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<30))
	if err != nil {
		return metadata.Metadata{}, false, fmt.Errorf("GET %s: %v", f.URL, err)
	}
	var start, total int64
	if resp.StatusCode == http.StatusPartialContent {
		// Content-Range: bytes START-END/TOTAL
		var end int64
		if _, err := fmt.Sscanf(resp.Header.Get("Content-Range"), "bytes %d-%d/%d", &start, &end, &total); err != nil ||
			end-start+1 != int64(len(data)) || end != total-1 {
			return metadata.Metadata{}, false, nil
		}
	}
	if start == 0 {
		// The whole wheel: check it as Fetch would.
		if want := f.SHA256; want != "" {
			sum := sha256.Sum256(data)
			if got := hex.EncodeToString(sum[:]); got != strings.ToLower(want) {
				return metadata.Metadata{}, true, fmt.Errorf("%s: sha256 %s, the index says %s", f.URL, got, want)
			}
		}
		m, err := metadata.FromWheel(data)
		return m, true, err
	}
	ra := &httpReaderAt{ctx: ctx, c: c, url: f.URL, blockStart: start, block: data}
	zr, err := zip.NewReader(ra, total)
	if err != nil {
		return metadata.Metadata{}, true, fmt.Errorf("%s: %v", f.URL, err)
	}
	m, err := metadata.FromZip(zr)
	return m, true, err
}

// httpReaderAt reads byte ranges, fetching at least 64 kB at a time and
// keeping the last block (zip reads many small headers in one region).
type httpReaderAt struct {
	ctx        context.Context
	c          *Client
	url        string
	blockStart int64
	block      []byte
}

const rangeBlock = 64 << 10

func (h *httpReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off >= h.blockStart && off+int64(len(p)) <= h.blockStart+int64(len(h.block)) {
		return copy(p, h.block[off-h.blockStart:]), nil
	}
	n := max(int64(len(p)), rangeBlock)
	req, err := http.NewRequestWithContext(h.ctx, http.MethodGet, h.url, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Range", "bytes="+strconv.FormatInt(off, 10)+"-"+strconv.FormatInt(off+n-1, 10))
	resp, err := h.c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent {
		return 0, fmt.Errorf("GET %s with Range: %s", h.url, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, n))
	if err != nil {
		return 0, err
	}
	h.blockStart, h.block = off, data
	m := copy(p, data)
	if m < len(p) {
		return m, io.EOF
	}
	return m, nil
}
