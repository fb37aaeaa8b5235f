package index

import (
	"archive/zip"
	"context"
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
// 1 GB wheel costs a few small reads), else the whole wheel, checked
// against its sha256. Reading metadata never needs the wheel's bytes to be
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
		if ra, size, ok := c.ranged(ctx, f.URL); ok {
			zr, err := zip.NewReader(ra, size)
			if err == nil {
				return metadata.FromZip(zr)
			}
		}
	}
	data, err := c.Fetch(ctx, f.URL, f.SHA256)
	if err != nil {
		return metadata.Metadata{}, err
	}
	return metadata.FromWheel(data)
}

// ranged returns a ReaderAt over url when the server answers range
// requests.
func (c *Client) ranged(ctx context.Context, url string) (io.ReaderAt, int64, bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, url, nil)
	if err != nil {
		return nil, 0, false
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, 0, false
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Accept-Ranges") != "bytes" || resp.ContentLength <= 0 {
		return nil, 0, false
	}
	return &httpReaderAt{ctx: ctx, c: c, url: url}, resp.ContentLength, true
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
