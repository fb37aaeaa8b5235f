package index

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/envkit/envkit/internal/netfetch"
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
		return c.tailMetadata(ctx, f)
	}
	var m metadata.Metadata
	err := c.net.Fetch(ctx, netfetch.Request{URL: f.URL}, func(r *netfetch.Response) error {
		var err error
		m, err = wheelMetadata(r, f)
		return err
	})
	return m, err
}

// tailMetadata asks for the last 64 kB of the wheel (where the zip
// directory is), as pip's lazy wheel does. A small wheel comes whole in
// that one answer; a big one is then read by ranges. A server that does
// not answer ranges sends the whole wheel, which goes to a file.
func (c *Client) tailMetadata(ctx context.Context, f File) (metadata.Metadata, error) {
	var (
		data         []byte
		start, total int64
		m            metadata.Metadata
		whole        bool
	)
	req := netfetch.Request{URL: f.URL, Header: http.Header{"Range": {"bytes=-" + strconv.Itoa(rangeBlock)}}}
	err := c.net.Fetch(ctx, req, func(r *netfetch.Response) error {
		// Content-Range: bytes START-END/TOTAL
		var end int64
		_, err := fmt.Sscanf(r.Header.Get("Content-Range"), "bytes %d-%d/%d", &start, &end, &total)
		if whole = r.StatusCode != http.StatusPartialContent; whole {
			m, err = wheelMetadata(r, f)
			return err
		}
		if err != nil || end != total-1 || end-start+1 > rangeBlock {
			return fmt.Errorf("GET %s: bad Content-Range %q for a range of %d bytes", f.URL, r.Header.Get("Content-Range"), rangeBlock)
		}
		data, err = io.ReadAll(io.LimitReader(r.Body, rangeBlock))
		if err == nil && end-start+1 != int64(len(data)) {
			err = fmt.Errorf("GET %s: %d bytes for Content-Range %q", f.URL, len(data), r.Header.Get("Content-Range"))
		}
		return err
	})
	switch {
	case err != nil || whole:
		return m, err
	case start == 0:
		// The whole wheel: check it as Fetch would.
		if want := f.SHA256; want != "" {
			sum := sha256.Sum256(data)
			if err := checkSHA256(f.URL, sum[:], want); err != nil {
				return metadata.Metadata{}, err
			}
		}
		return metadata.FromWheel(data)
	}
	ra := &httpReaderAt{ctx: ctx, c: c, url: f.URL, blockStart: start, block: data}
	m, err = metadata.FromWheelFile(ra, total)
	if err != nil {
		return m, fmt.Errorf("%s: %w", f.URL, err)
	}
	return m, nil
}

// wheelMetadata reads the metadata of the whole wheel in r, saved to a
// temporary file (a wheel may be larger than memory allows) and checked
// against the index's sha256.
func wheelMetadata(r *netfetch.Response, f File) (metadata.Metadata, error) {
	if r.StatusCode != http.StatusOK {
		return metadata.Metadata{}, fmt.Errorf("GET %s: status %d, want 200", f.URL, r.StatusCode)
	}
	tmp, err := os.CreateTemp("", "envkit-wheel-*.whl")
	if err != nil {
		return metadata.Metadata{}, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	h := sha256.New()
	n, err := netfetch.Save(r, tmp, h)
	if err != nil {
		return metadata.Metadata{}, err
	}
	if f.SHA256 != "" {
		if err := checkSHA256(f.URL, h.Sum(nil), f.SHA256); err != nil {
			return metadata.Metadata{}, err
		}
	}
	m, err := metadata.FromWheelFile(tmp, n)
	if err != nil {
		return m, fmt.Errorf("%s: %w", f.URL, err)
	}
	return m, nil
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
	var data []byte
	req := netfetch.Request{URL: h.url, Header: http.Header{"Range": {"bytes=" + strconv.FormatInt(off, 10) + "-" + strconv.FormatInt(off+n-1, 10)}}, Limit: n}
	err := h.c.net.Fetch(h.ctx, req, func(r *netfetch.Response) error {
		if r.StatusCode != http.StatusPartialContent {
			return fmt.Errorf("GET %s with Range: %d", h.url, r.StatusCode)
		}
		var err error
		data, err = io.ReadAll(r.Body)
		return err
	})
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
