package pkg

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dsnet/compress/bzip2"
	"github.com/envkit/envkit/internal/conformance"
	"github.com/klauspost/compress/zstd"
)

// rawTarHeader is one 512-byte ustar (or, with gnu, old GNU) header
// block, written by hand: archive/tar's writer makes no sparse entries.
func rawTarHeader(name string, typeflag byte, size int64, gnu bool) []byte {
	b := make([]byte, 512)
	copy(b, name)
	copy(b[100:], "0000644\x00")
	copy(b[108:], "0000000\x00")
	copy(b[116:], "0000000\x00")
	copy(b[124:], fmt.Sprintf("%011o\x00", size))
	copy(b[136:], "00000000000\x00")
	b[156] = typeflag
	copy(b[257:], "ustar\x0000")
	if gnu {
		copy(b[257:], "ustar  \x00")
		copy(b[483:], fmt.Sprintf("%011o\x00", 1<<30)) // real size: 1 GiB of holes
	}
	copy(b[148:], "        ")
	sum := 0
	for _, c := range b {
		sum += int(c)
	}
	copy(b[148:], fmt.Sprintf("%06o\x00 ", sum))
	return b
}

func pad512(b []byte) []byte {
	return append(b, make([]byte, (512-len(b)%512)%512)...)
}

// paxSparseTar is a PAX GNU sparse 1.0 file that archive/tar expands to
// realSize bytes from one block of data: the 411-byte bomb's shape.
func paxSparseTar(realSize int64) []byte {
	var recs string
	for _, kv := range [][2]string{{"GNU.sparse.major", "1"}, {"GNU.sparse.minor", "0"}, {"GNU.sparse.name", "lib/big"}, {"GNU.sparse.realsize", fmt.Sprint(realSize)}} {
		r := " " + kv[0] + "=" + kv[1] + "\n"
		n := len(r) + 2
		if len(fmt.Sprint(n)+r) != n {
			n++
		}
		recs += fmt.Sprint(n) + r
	}
	sparseMap := pad512([]byte(fmt.Sprintf("1\n%d\n1\n", realSize-1)))
	var b []byte
	b = append(b, rawTarHeader("PaxHeaders/big", 'x', int64(len(recs)), false)...)
	b = append(b, pad512([]byte(recs))...)
	b = append(b, rawTarHeader("lib/GNUSparseFile.0/big", '0', int64(len(sparseMap))+1, false)...)
	b = append(b, sparseMap...)
	b = append(b, pad512([]byte{'x'})...)
	return append(b, make([]byte, 1024)...)
}

func bz2Bytes(t testing.TB, data []byte) []byte {
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

func writeTemp(t *testing.T, name string, data []byte) string {
	file := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// refusedCleanly extracts file and wants an error saying want, with
// nothing left behind.
func refusedCleanly(t *testing.T, file, want string) {
	t.Helper()
	dest := filepath.Join(t.TempDir(), "out")
	err := Extract(file, dest, time.Unix(0, 0))
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), filepath.Base(file)) {
		t.Fatalf("got %v, want an error naming the package and saying %q", err, want)
	}
	if left, _ := os.ReadDir(filepath.Dir(dest)); len(left) != 0 {
		t.Errorf("refused package left %v behind", left)
	}
}

func TestSparseEntriesRefused(t *testing.T) {
	oldGNU := append(rawTarHeader("lib/big", 'S', 0, true), make([]byte, 1024)...)
	for name, tarball := range map[string][]byte{"pax": paxSparseTar(3 << 30), "old GNU": oldGNU} {
		t.Run(name, func(t *testing.T) {
			refusedCleanly(t, writeTemp(t, "sparse-1-0.tar.bz2", bz2Bytes(t, tarball)), "sparse tar entry")
			refusedCleanly(t, writeTemp(t, "sparse-1-0.conda", condaBytes(t, tarball)), "sparse tar entry")
		})
	}
}

// zeroTarZst is a zstd tar holding one file of n zero bytes, streamed
// (no frame size in the header), as a bomb would be.
func zeroTarZst(t testing.TB, n int64) []byte {
	var b bytes.Buffer
	enc, err := zstd.NewWriter(&b, zstd.WithEncoderLevel(zstd.SpeedFastest))
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(enc)
	tw.WriteHeader(&tar.Header{Name: "lib/zeros", Typeflag: tar.TypeReg, Mode: 0o644, Size: n})
	io.Copy(tw, io.LimitReader(zeros{}, n))
	tw.Close()
	enc.Close()
	return b.Bytes()
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestDecompressionBombCapped(t *testing.T) {
	// A few kB that expand past the 256 MiB floor: refused while
	// streaming, before the 256 MiB is passed on.
	payload := zeroTarZst(t, 300<<20)
	info := tarBytes(t, &tar.Header{Name: "info/index.json", Typeflag: tar.TypeReg, Mode: 0o644})
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for name, data := range map[string][]byte{"info-x-1-0.tar.zst": zstdBytes(info), "pkg-x-1-0.tar.zst": payload} {
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		w.Write(data)
	}
	zw.Close()
	data := b.Bytes()
	var got int64
	err := Walk(bytes.NewReader(data), int64(len(data)), "bomb-1-0.conda", All, func(e *Entry, r io.Reader) error {
		n, err := io.Copy(io.Discard, r)
		got += n
		return err
	})
	limit := MaxExtracted(int64(len(data)))
	if err == nil || !strings.Contains(err.Error(), "bomb-1-0.conda: extracts to more than 268435456 bytes") {
		t.Fatalf("got %v, want the bomb refused at %d bytes", err, limit)
	}
	if got > limit {
		t.Errorf("%d bytes delivered, more than the limit %d", got, limit)
	}
}

// TestHardLinkCopiesCapped: hard links are written as copies, so 300
// links to a 1 MiB file write 300 MiB from a few kB of archive; they
// count against the same limit.
func TestHardLinkCopiesCapped(t *testing.T) {
	hs := []*tar.Header{{Name: "lib/one", Typeflag: tar.TypeReg, Mode: 0o644, Size: 1 << 20}}
	for i := range 300 {
		hs = append(hs, &tar.Header{Name: fmt.Sprintf("lib/copy%d", i), Typeflag: tar.TypeLink, Linkname: "lib/one"})
	}
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, h := range hs {
		tw.WriteHeader(h)
		if h.Typeflag == tar.TypeReg {
			tw.Write(make([]byte, h.Size))
		}
	}
	tw.Close()
	data := bz2Bytes(t, b.Bytes())
	var copies int
	err := Walk(bytes.NewReader(data), int64(len(data)), "links-1-0.tar.bz2", All, func(e *Entry, r io.Reader) error {
		if e.Type == Hardlink {
			copies++
			if e.Size != 1<<20 {
				t.Errorf("hard link %s: size %d, want its source's", e.Path, e.Size)
			}
		}
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "links-1-0.tar.bz2: extracts to more than 268435456 bytes") {
		t.Fatalf("got %v, want the copies refused past the limit", err)
	}
	if copies >= 256 {
		t.Errorf("%d copies delivered, more than the limit allows", copies)
	}
}

func zstdBytes(data []byte) []byte {
	enc, _ := zstd.NewWriter(nil)
	return enc.EncodeAll(data, nil)
}

func TestMaxExtracted(t *testing.T) {
	for _, c := range []struct{ size, want int64 }{
		{411, 256 << 20},
		{100 << 20, 5000 << 20},
		{3 << 30, 32 << 30},
		{1 << 62, 32 << 30}, // no overflow
	} {
		if got := MaxExtracted(c.size); got != c.want {
			t.Errorf("MaxExtracted(%d) = %d, want %d", c.size, got, c.want)
		}
	}
}

// storedConda is a .conda as conda-package-handling writes it: stored
// members, sizes in the local headers, no data descriptors.
func storedConda(t testing.TB, members ...[2]string) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, m := range members {
		data := []byte(m[1])
		w, err := zw.CreateRaw(&zip.FileHeader{Name: m[0], Method: zip.Store, CRC32: crc32.ChecksumIEEE(data),
			CompressedSize64: uint64(len(data)), UncompressedSize64: uint64(len(data))})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	zw.Close()
	return b.Bytes()
}

// dropLastCentral removes the last central directory entry of a zip
// without comment, leaving its local entry in place: a hidden member.
func dropLastCentral(t *testing.T, z []byte) []byte {
	le := binary.LittleEndian
	eocd := z[len(z)-22:]
	n, cdSize, cdOff := int(le.Uint16(eocd[10:])), int(le.Uint32(eocd[12:])), int(le.Uint32(eocd[16:]))
	cd := z[cdOff : cdOff+cdSize]
	last := 0
	for i, p := 0, 0; i < n; i++ {
		last = p
		p += 46 + int(le.Uint16(cd[p+28:])) + int(le.Uint16(cd[p+30:])) + int(le.Uint16(cd[p+32:]))
	}
	out := append(append([]byte{}, z[:cdOff+last]...), eocd...)
	e := out[len(out)-22:]
	le.PutUint16(e[8:], uint16(n-1))
	le.PutUint16(e[10:], uint16(n-1))
	le.PutUint32(e[12:], uint32(last))
	return out
}

func TestZipCentralLocalMismatchRefused(t *testing.T) {
	info := string(zstdBytes(tarBytes(t, &tar.Header{Name: "info/index.json", Typeflag: tar.TypeReg, Mode: 0o644})))
	payload := string(zstdBytes(tarBytes(t, &tar.Header{Name: "lib/evil", Typeflag: tar.TypeReg, Mode: 0o644})))
	good := storedConda(t, [2]string{"info-x-1-0.tar.zst", info}, [2]string{"pkg-x-1-0.tar.zst", payload})
	if _, err := condaMembers(bytes.NewReader(good), int64(len(good))); err != nil {
		t.Fatalf("a well-formed .conda refused: %v", err)
	}
	patch := func(old, new string, nth int) []byte {
		z := bytes.Clone(good)
		i := -1
		for range nth {
			i += 1 + bytes.Index(z[i+1:], []byte(old))
		}
		copy(z[i:], new)
		return z
	}
	le := binary.LittleEndian
	sizePatched := bytes.Clone(good)
	le.PutUint32(sizePatched[18:], uint32(len(info)+1)) // the first local header's compressed size
	cases := map[string]struct {
		zip  []byte
		want string
	}{
		// The local header (the name's first occurrence) tells a
		// streaming reader another name than the central directory.
		"local name": {patch("pkg-x-1-0.tar.zst", "pkg-x-1-0.tar.zsx", 1), `its local header names it "pkg-x-1-0.tar.zsx"`},
		"local size": {sizePatched, "sizes differ"},
		// A member in the local headers that the central directory
		// does not list, after the others or before them.
		"hidden last":  {dropLastCentral(t, storedConda(t, [2]string{"info-x-1-0.tar.zst", info}, [2]string{"pkg-x-1-0.tar.zst", payload}, [2]string{"pkg-y-1-0.tar.zst", payload})), "after the last member"},
		"hidden first": {dropFirstCentral(t, storedConda(t, [2]string{"pkg-y-1-0.tar.zst", payload}, [2]string{"info-x-1-0.tar.zst", info}, [2]string{"pkg-x-1-0.tar.zst", payload})), `its local header names it "pkg-y-1-0.tar.zst"`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			refusedCleanly(t, writeTemp(t, "confused-1-0.conda", c.zip), c.want)
		})
	}
}

// dropFirstCentral drops the first central directory entry of a zip (its
// local entry stays at the start of the file).
func dropFirstCentral(t *testing.T, z []byte) []byte {
	le := binary.LittleEndian
	eocd := bytes.Clone(z[len(z)-22:])
	n, cdSize, cdOff := int(le.Uint16(eocd[10:])), int(le.Uint32(eocd[12:])), int(le.Uint32(eocd[16:]))
	cd := z[cdOff : cdOff+cdSize]
	first := 46 + int(le.Uint16(cd[28:])) + int(le.Uint16(cd[30:])) + int(le.Uint16(cd[32:]))
	out := append(append(append([]byte{}, z[:cdOff]...), cd[first:]...), eocd...)
	e := out[len(out)-22:]
	le.PutUint16(e[8:], uint16(n-1))
	le.PutUint16(e[10:], uint16(n-1))
	le.PutUint32(e[12:], uint32(cdSize-first))
	return out
}

// streamingView is how a streaming zip reader sees a zip: local headers
// one after the other from the first byte up to the central directory
// (found through the end record), skipping a data descriptor by looking
// for the next record's signature. ok is false when the local headers do
// not reach the central directory exactly.
type localEntry struct {
	name         string
	csize, usize uint64
	described    bool
}

func streamingView(z []byte) (entries []localEntry, ok bool) {
	le := binary.LittleEndian
	end := bytes.LastIndex(z, []byte("PK\x05\x06"))
	if end < 0 || len(z)-end < 22 {
		return nil, false
	}
	cdOff := int(le.Uint32(z[end+16:]))
	if cdOff == 0xFFFFFFFF || cdOff > len(z) {
		return nil, false
	}
	off := 0
	for off < cdOff {
		if off+30 > len(z) || string(z[off:off+4]) != "PK\x03\x04" {
			return nil, false
		}
		flags := le.Uint16(z[off+6:])
		e := localEntry{csize: uint64(le.Uint32(z[off+18:])), usize: uint64(le.Uint32(z[off+22:])), described: flags&8 != 0}
		n, m := int(le.Uint16(z[off+26:])), int(le.Uint16(z[off+28:]))
		if off+30+n+m > len(z) {
			return nil, false
		}
		e.name = string(z[off+30 : off+30+n])
		if extra := zip64Extra(z[off+30+n : off+30+n+m]); len(extra) >= 16 && (e.csize == 0xFFFFFFFF || e.usize == 0xFFFFFFFF) {
			e.usize, e.csize = le.Uint64(extra), le.Uint64(extra[8:])
		}
		data := off + 30 + n + m
		if e.described {
			next := data + bytes.Index(z[data:], []byte("PK\x07\x08"))
			if next < data {
				return nil, false
			}
			off = next + 16
			if off < len(z) && string(z[off:min(off+4, len(z))]) != "PK\x03\x04" && string(z[off:min(off+4, len(z))]) != "PK\x01\x02" {
				off += 8 // zip64 descriptor
			}
		} else {
			if e.csize > uint64(len(z)) {
				return nil, false
			}
			off = data + int(e.csize)
		}
		entries = append(entries, e)
	}
	return entries, off == cdOff
}

// FuzzCondaZip holds the .conda zip reader to what both kinds of zip
// reader see: a zip it accepts has, in archive/zip's central directory,
// exactly the members a streaming reader meets in the local headers, same
// names and sizes in the same order. Anything else must be refused.
func FuzzCondaZip(f *testing.F) {
	f.Add(storedConda(f, [2]string{"info-x-1-0.tar.zst", "abc"}, [2]string{"pkg-x-1-0.tar.zst", "defg"}))
	f.Add(condaBytes(f, tarBytes(f, &tar.Header{Name: "lib/a", Typeflag: tar.TypeReg, Mode: 0o644})))
	for _, name := range []string{"packages/rattler/zip64-test-1.0.0-0.conda", "packages/rattler/empty-0.1.0-h4616a5c_0.conda"} {
		b, err := os.ReadFile(conformance.Dir(f, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, z []byte) {
		files, err := condaMembers(bytes.NewReader(z), int64(len(z)))
		if err != nil || len(files) == 0 {
			return
		}
		local, ok := streamingView(z)
		if !ok || len(local) != len(files) {
			t.Fatalf("accepted a zip whose local headers (%v, reach the central directory: %v) are not its %d central entries", local, ok, len(files))
		}
		byOffset := slices.Clone(files)
		slices.SortFunc(byOffset, func(a, b *zip.File) int {
			oa, _ := a.DataOffset()
			ob, _ := b.DataOffset()
			return cmp.Compare(oa, ob)
		})
		for i, f := range byOffset {
			l := local[i]
			if l.name != f.Name || !l.described && (l.csize != f.CompressedSize64 || l.usize != f.UncompressedSize64) {
				t.Fatalf("accepted: central %q (%d/%d bytes), local %q (%d/%d)", f.Name, f.CompressedSize64, f.UncompressedSize64, l.name, l.csize, l.usize)
			}
		}
	})
}
