package fetch

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/dsnet/compress/bzip2"
	"github.com/klauspost/compress/zstd"
)

// zstdStream compresses data as a stream: the frame header states no
// size, so only the decoder's output tells how much comes out.
func zstdStream(t *testing.T, data []byte) []byte {
	var b bytes.Buffer
	enc, err := zstd.NewWriter(&b)
	if err != nil {
		t.Fatal(err)
	}
	enc.Write(data)
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func bzip2Bytes(t *testing.T, data []byte) []byte {
	var b bytes.Buffer
	w, err := bzip2.NewWriter(&b, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func wantLimit(t *testing.T, err error, kind Kind, limit int64) {
	t.Helper()
	var le *LimitError
	if !errors.As(err, &le) || le.Kind != kind || le.Limit != limit || !strings.Contains(err.Error(), "more than") {
		t.Fatalf("got %v, want a %v LimitError at %d bytes", err, kind, limit)
	}
}

func TestDecompressBounded(t *testing.T) {
	data := bytes.Repeat([]byte("repodata "), 200_000) // 1.8 MB
	n := int64(len(data))
	encoders := map[Kind]func(*testing.T, []byte) []byte{
		Zstd:  zstdStream,
		Bzip2: bzip2Bytes,
	}
	for kind, encode := range encoders {
		t.Run(kind.String(), func(t *testing.T) {
			packed := encode(t, data)
			got, err := Decompress(bytes.NewReader(packed), kind, n)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("at the limit: %d bytes, %v", len(got), err)
			}
			_, err = Decompress(bytes.NewReader(packed), kind, n-1)
			wantLimit(t, err, kind, n-1)
		})
	}
}

// TestDecompressFrames: the size a zstd header states is its frame's;
// frames that follow are read too (pzstd writes several).
func TestDecompressFrames(t *testing.T) {
	enc, _ := zstd.NewWriter(nil)
	a, b := []byte(strings.Repeat("first ", 1000)), []byte(strings.Repeat("second ", 1000))
	packed := append(enc.EncodeAll(a, nil), enc.EncodeAll(b, nil)...)
	got, err := Decompress(bytes.NewReader(packed), Zstd, int64(len(a)+len(b)))
	if err != nil || string(got) != string(a)+string(b) {
		t.Fatalf("%d bytes, %v", len(got), err)
	}
	_, err = Decompress(bytes.NewReader(packed), Zstd, int64(len(a)+len(b)-1))
	wantLimit(t, err, Zstd, int64(len(a)+len(b)-1))
}

// TestDecompressStatedSizeRefusedUpFront: a zstd frame whose header
// states more than the limit is refused before decoding, whatever its
// blocks hold (here one byte).
func TestDecompressStatedSizeRefusedUpFront(t *testing.T) {
	frame := []byte{0x28, 0xb5, 0x2f, 0xfd, 0xc0, 0x00} // 8-byte content size, 1 KiB window
	frame = binary.LittleEndian.AppendUint64(frame, 2<<30)
	frame = append(frame, 0x09, 0x00, 0x00, 'x') // last raw block, 1 byte
	_, err := DecompressRepodata("file:///c/noarch/repodata.json.zst", frame)
	wantLimit(t, err, Zstd, MaxRepodata)
	if !strings.HasPrefix(err.Error(), "file:///c/noarch/repodata.json.zst: ") {
		t.Errorf("error %q does not name the file", err)
	}
}

// TestDecompressWindowRefused: a frame asking for a 1 GiB window fails
// instead of allocating it.
func TestDecompressWindowRefused(t *testing.T) {
	frame := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 20 << 3, 0x09, 0x00, 0x00, 'x'}
	_, err := Decompress(bytes.NewReader(frame), Zstd, 1<<40)
	if !errors.Is(err, zstd.ErrWindowSizeExceeded) {
		t.Fatalf("got %v, want the window refused", err)
	}
}

// TestReaderCountsAcrossReuse: pooled zstd decoders start each stream
// afresh, and N counts what came out.
func TestReaderCountsAcrossReuse(t *testing.T) {
	for i, s := range []string{"first stream", "second, longer stream"} {
		r, err := NewReader(bytes.NewReader(zstdStream(t, []byte(s))), Zstd, 100)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		r.Close()
		if err != nil || string(got) != s || r.N() != int64(len(s)) {
			t.Errorf("stream %d: %q (N %d), %v", i, got, r.N(), err)
		}
	}
}

// BenchmarkDecompressBomb: 64 MiB of zeros from a 2 kB stream, refused at
// a 32 MiB limit; B/op shows the bomb allocates nothing near the limit.
func BenchmarkDecompressBomb(b *testing.B) {
	var packed bytes.Buffer
	enc, _ := zstd.NewWriter(&packed)
	io.Copy(enc, io.LimitReader(zeroReader{}, 64<<20))
	enc.Close()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decompress(bytes.NewReader(packed.Bytes()), Zstd, 32<<20); err == nil {
			b.Fatal("bomb accepted")
		}
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// FuzzDecompress: Decompress never returns more than its limit, and
// agrees with a plain streaming decode: the same bytes when that one
// gives at most limit bytes without error, a refusal otherwise.
func FuzzDecompress(f *testing.F) {
	enc, _ := zstd.NewWriter(nil)
	f.Add(enc.EncodeAll([]byte("repodata"), nil), uint16(8))
	f.Add(append(enc.EncodeAll([]byte("one"), nil), enc.EncodeAll([]byte("two"), nil)...), uint16(6))
	f.Add([]byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x48, 0x09, 0x00, 0x00, 'x'}, uint16(100))
	f.Fuzz(func(t *testing.T, data []byte, limit uint16) {
		got, err := Decompress(bytes.NewReader(data), Zstd, int64(limit))
		if len(got) > int(limit) {
			t.Fatalf("%d bytes out, limit %d", len(got), limit)
		}
		dec, derr := zstd.NewReader(bytes.NewReader(data), zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(maxZstdWindow))
		if derr != nil {
			t.Skip()
		}
		defer dec.Close()
		want, werr := io.ReadAll(io.LimitReader(dec, int64(limit)+1))
		switch {
		case werr == nil && len(want) <= int(limit):
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("plain decode gives %q; Decompress %q, %v", want, got, err)
			}
		case err == nil:
			t.Fatalf("accepted %q where a plain decode fails (%v) or gives more than %d bytes", got, werr, limit)
		}
	})
}
