package fetch

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/dsnet/compress/bzip2"
	"github.com/klauspost/compress/zstd"
)

// This file is envkit's one bounded decompressor: repodata.json.zst (CEP
// 36), the .tar.zst members of .conda packages and .tar.bz2 packages all
// go through NewReader or Decompress, as will the msgpack.zst shards of
// CEP 16. Every caller states how many bytes may come out, so a small
// input that expands without end (a "bomb") fails with a *LimitError
// after at most that many bytes, and memory is bounded before anything
// is allocated: the output by the limit, a zstd window by maxZstdWindow.

// Kind is a compression format.
type Kind int

const (
	Zstd Kind = iota + 1
	Bzip2
)

func (k Kind) String() string {
	switch k {
	case Zstd:
		return "zstd"
	case Bzip2:
		return "bzip2"
	}
	return "unknown compression"
}

// MaxRepodata bounds a decompressed repodata.json (conda-forge's
// linux-64, the largest, is about 250 MB), as maxRepodataDownload
// bounds one read plain.
const MaxRepodata = 1 << 30

// DecompressRepodata reads a repodata.json.zst (CEP 36) named name in
// errors, at most MaxRepodata bytes of JSON.
func DecompressRepodata(name string, zst []byte) ([]byte, error) {
	data, err := Decompress(bytes.NewReader(zst), Zstd, MaxRepodata)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return data, nil
}

// maxZstdWindow is the largest zstd window accepted: 128 MiB, the zstd
// tool's own default limit, which early .conda files declare (Anaconda's
// zlib) even when tiny. A frame asking for more is refused before its
// window is allocated.
const maxZstdWindow = 1 << 27

// LimitError is a stream that decompresses to more than Limit bytes.
type LimitError struct {
	Kind  Kind
	Limit int64
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("%s data decompresses to more than %d bytes, the limit: refused as a decompression bomb", e.Kind, e.Limit)
}

// Reader is a decompressing reader that fails with a *LimitError once
// more than its limit has come out. Close it to release the decoder.
type Reader struct {
	dec   io.Reader
	close func()
	limit int64
	n     int64 // at most limit
	over  bool  // the limit was passed: every read fails
	kind  Kind
}

// NewReader decompresses r (of format kind), allowing at most limit
// bytes of output.
func NewReader(r io.Reader, kind Kind, limit int64) (*Reader, error) {
	switch kind {
	case Zstd:
		d, err := getZstd(r)
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		return &Reader{dec: d, close: func() { putZstd(d) }, limit: limit, kind: kind}, nil
	case Bzip2:
		d, err := bzip2.NewReader(r, nil)
		if err != nil {
			return nil, fmt.Errorf("bzip2: %w", err)
		}
		return &Reader{dec: d, close: func() { d.Close() }, limit: limit, kind: kind}, nil
	}
	return nil, fmt.Errorf("%v: not a supported compression", kind)
}

func (r *Reader) Read(p []byte) (int, error) {
	if r.over {
		return 0, &LimitError{r.kind, r.limit}
	}
	// One byte past the limit tells output at the limit from a longer one.
	if room := r.limit - r.n; int64(len(p)) > room {
		p = p[:room+1]
	}
	n, err := r.dec.Read(p)
	if int64(n) > r.limit-r.n {
		r.over = true
		return n - 1, &LimitError{r.kind, r.limit}
	}
	r.n += int64(n)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("%s: %w", r.kind, err)
	}
	return n, err
}

// Charge counts n bytes against the limit that did not come out of the
// stream but are made from it (an archive's hard link copies an earlier
// file), failing with a *LimitError past the limit, as reading then does.
func (r *Reader) Charge(n int64) error {
	if n > r.limit-r.n {
		r.over = true
		return &LimitError{r.kind, r.limit}
	}
	r.n += n
	return nil
}

// N is the number of bytes decompressed (and charged) so far.
func (r *Reader) N() int64 { return r.n }

// Close releases the decoder; r is unusable afterwards.
func (r *Reader) Close() error {
	if r.close != nil {
		r.close()
		r.close = nil
	}
	return nil
}

// Decompress returns all of r decompressed (format kind), at most limit
// bytes, else a *LimitError. The output is allocated once, at its exact
// size, known before: from the zstd frame header when it states the size
// (a larger one is refused up front), else from a first pass that only
// counts. So a bomb costs no memory at all, and a real file no slice
// grown by doubling: under `ulimit -v 2000000` a Go program has about
// 700 MB of heap, less than the 1 GiB repodata limit.
func Decompress(r io.ReadSeeker, kind Kind, limit int64) ([]byte, error) {
	size, stated, err := statedSize(r, kind, limit)
	if err != nil {
		return nil, err
	}
	if !stated {
		if size, err = countOutput(r, kind, limit); err != nil {
			return nil, err
		}
	}
	out, err := fill(r, kind, size)
	if err == errMoreOutput && stated {
		// The header states its own frame's size; more frames follow.
		if size, err = countOutput(r, kind, limit); err != nil {
			return nil, err
		}
		out, err = fill(r, kind, size)
	}
	return out, err
}

// statedSize reads the size a zstd frame header at the start of r states.
func statedSize(r io.ReadSeeker, kind Kind, limit int64) (int64, bool, error) {
	if kind != Zstd {
		return 0, false, nil
	}
	var head [zstd.HeaderMaxSize]byte
	n, err := io.ReadFull(r, head[:])
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF { // short: no header to read
		return 0, false, fmt.Errorf("zstd: %w", err)
	}
	var h zstd.Header
	if h.Decode(head[:n]) != nil || !h.HasFCS {
		return 0, false, nil
	}
	if h.FrameContentSize > uint64(limit) {
		return 0, false, &LimitError{kind, limit}
	}
	return int64(h.FrameContentSize), true, nil
}

// countOutput decompresses r from its start, keeping nothing, and
// returns how many bytes came out.
func countOutput(r io.ReadSeeker, kind Kind, limit int64) (int64, error) {
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	d, err := NewReader(r, kind, limit)
	if err != nil {
		return 0, err
	}
	defer d.Close()
	return io.Copy(io.Discard, d)
}

// errMoreOutput is a stream longer than the size fill was given.
var errMoreOutput = errors.New("more output than its header states")

// fill decompresses r from its start into a slice of exactly size bytes.
func fill(r io.ReadSeeker, kind Kind, size int64) ([]byte, error) {
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	d, err := NewReader(r, kind, size)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	out := make([]byte, size)
	if _, err := io.ReadFull(d, out); err != nil {
		if err == io.ErrUnexpectedEOF {
			err = fmt.Errorf("%s: less output than its header states", kind)
		}
		return nil, err
	}
	var one [1]byte
	switch _, err := io.ReadFull(d, one[:]); {
	case err == io.EOF:
		return out, nil
	case err == nil || errors.As(err, new(*LimitError)):
		return nil, errMoreOutput
	default:
		return nil, err
	}
}

// idleZstd keeps zstd decoders for reuse. A decoder allocates the
// frame's window (+1 MiB in low-memory mode) up front, and early .conda
// files declare 128 MiB windows even when tiny (Anaconda's zlib):
// clearing that per archive cost a second per package in profiles. A
// plain list, not a sync.Pool, because the garbage collector empties
// pools and these large allocations trigger collections.
var (
	idleMu   sync.Mutex
	idleZstd []*zstd.Decoder
)

const maxIdleZstd = 2

func getZstd(r io.Reader) (*zstd.Decoder, error) {
	// Hidden behind a plain struct: given a *bytes.Buffer under 5 MB, the
	// decoder would decode it all at once into memory, unbounded.
	r = struct{ io.Reader }{r}
	idleMu.Lock()
	var d *zstd.Decoder
	if n := len(idleZstd); n > 0 {
		d, idleZstd = idleZstd[n-1], idleZstd[:n-1]
	}
	idleMu.Unlock()
	if d != nil {
		if err := d.Reset(r); err != nil {
			return nil, err
		}
		return d, nil
	}
	// One goroutine per decoder: callers read one stream at a time.
	return zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxWindow(maxZstdWindow))
}

func putZstd(d *zstd.Decoder) {
	if d.Reset(nil) != nil {
		d.Close()
		return
	}
	idleMu.Lock()
	defer idleMu.Unlock()
	if len(idleZstd) < maxIdleZstd {
		idleZstd = append(idleZstd, d)
		return
	}
	d.Close()
}
