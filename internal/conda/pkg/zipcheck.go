package pkg

import (
	"archive/zip"
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"slices"
)

// Zip record signatures.
var (
	sigLocal      = []byte("PK\x03\x04")
	sigCentral    = []byte("PK\x01\x02")
	sigDescriptor = []byte("PK\x07\x08")
)

// checkLocalHeaders holds a zip to one reading: walking its local file
// headers from the first byte, as a streaming reader does, must meet
// exactly the members of the central directory (which archive/zip reads),
// in offset order, each with the same name, method, CRC and sizes, one
// right after the other, and then the central directory itself. A zip
// that tells the two readers different stories is how a hidden member
// gets past a check made with the other reader (uv's CVE-2025-54368);
// Python's zipfile refuses a name mismatch too.
func checkLocalHeaders(ra io.ReaderAt, files []*zip.File) error {
	type member struct {
		f    *zip.File
		data int64
	}
	members := make([]member, len(files))
	for i, f := range files {
		off, err := f.DataOffset()
		if err != nil {
			return fmt.Errorf("member %q: %w", f.Name, err)
		}
		members[i] = member{f, off}
	}
	slices.SortFunc(members, func(a, b member) int { return cmp.Compare(a.data, b.data) })
	off := int64(0)
	for _, m := range members {
		next, err := checkLocal(ra, off, m.f, m.data)
		if err != nil {
			return fmt.Errorf("member %q: %w", m.f.Name, err)
		}
		off = next
	}
	if len(members) > 0 && !hasSig(ra, off, sigCentral) {
		return fmt.Errorf("data at offset %d after the last member, where the central directory should start", off)
	}
	return nil
}

// checkLocal checks the local header at off against f, whose data
// archive/zip reads at data, and returns the offset where the next
// record starts.
func checkLocal(ra io.ReaderAt, off int64, f *zip.File, data int64) (int64, error) {
	var h [30]byte
	if _, err := ra.ReadAt(h[:], off); err != nil || !bytes.Equal(h[:4], sigLocal) {
		return 0, fmt.Errorf("no local header at offset %d, where the previous member ends", off)
	}
	le := binary.LittleEndian
	flags, method := le.Uint16(h[6:]), le.Uint16(h[8:])
	crc, csize, usize := le.Uint32(h[14:]), uint64(le.Uint32(h[18:])), uint64(le.Uint32(h[22:]))
	nameLen, extraLen := int64(le.Uint16(h[26:])), int64(le.Uint16(h[28:]))
	buf := make([]byte, nameLen+extraLen)
	if _, err := ra.ReadAt(buf, off+30); err != nil {
		return 0, fmt.Errorf("local header at offset %d: %v", off, errShort(err))
	}
	name, extra := buf[:nameLen], buf[nameLen:]
	switch {
	case string(name) != f.Name:
		return 0, fmt.Errorf("its local header names it %q", name)
	case off+30+nameLen+extraLen != data:
		return 0, fmt.Errorf("its local header at offset %d does not lead to its data at offset %d", off, data)
	case method != f.Method:
		return 0, fmt.Errorf("method %d in its local header, %d in the central directory", method, f.Method)
	case flags&8 != f.Flags&8:
		return 0, fmt.Errorf("data descriptor flag differs between its local header and the central directory")
	}
	if csize == math.MaxUint32 || usize == math.MaxUint32 {
		// Zip64: the local extra field holds both sizes (APPNOTE 4.5.3).
		z := zip64Extra(extra)
		if len(z) < 16 {
			return 0, fmt.Errorf("local header without the zip64 sizes it announces")
		}
		usize, csize = le.Uint64(z), le.Uint64(z[8:])
	}
	// With a data descriptor the local fields may be zero; the
	// descriptor after the data then carries them.
	described := flags&8 != 0
	if !agree(uint64(crc), uint64(f.CRC32), described) || !agree(csize, f.CompressedSize64, described) || !agree(usize, f.UncompressedSize64, described) {
		return 0, fmt.Errorf("CRC or sizes differ between its local header and the central directory")
	}
	if f.CompressedSize64 > math.MaxInt64-uint64(data) {
		return 0, fmt.Errorf("compressed size %d out of range", f.CompressedSize64)
	}
	end := data + int64(f.CompressedSize64)
	if !described {
		return end, nil
	}
	return descriptorEnd(ra, end, f)
}

func agree(local, central uint64, described bool) bool {
	return local == central || described && local == 0
}

// zip64Extra returns the data of the zip64 extended information field.
func zip64Extra(extra []byte) []byte {
	for len(extra) >= 4 {
		tag, size := binary.LittleEndian.Uint16(extra), int(binary.LittleEndian.Uint16(extra[2:]))
		if size > len(extra)-4 {
			return nil
		}
		if tag == 1 {
			return extra[4 : 4+size]
		}
		extra = extra[4+size:]
	}
	return nil
}

// descriptorEnd reads the data descriptor at off, whose forms differ
// (with or without its signature, 32- or 64-bit sizes): the one whose
// CRC and sizes are f's and that a zip record follows.
func descriptorEnd(ra io.ReaderAt, off int64, f *zip.File) (int64, error) {
	var d [24]byte
	n, _ := ra.ReadAt(d[:], off)
	le := binary.LittleEndian
	for _, signed := range []bool{true, false} {
		b := d[:n]
		if signed {
			if !bytes.HasPrefix(b, sigDescriptor) {
				continue
			}
			b = b[4:]
		}
		for _, wide := range []bool{false, true} {
			size := 12
			if wide {
				size = 20
			}
			if len(b) < size || le.Uint32(b) != f.CRC32 {
				continue
			}
			cs, us := uint64(le.Uint32(b[4:])), uint64(le.Uint32(b[8:]))
			if wide {
				cs, us = le.Uint64(b[4:]), le.Uint64(b[12:])
			}
			end := off + int64(len(d[:n])-len(b)+size)
			if cs == f.CompressedSize64 && us == f.UncompressedSize64 && (hasSig(ra, end, sigLocal) || hasSig(ra, end, sigCentral)) {
				return end, nil
			}
		}
	}
	return 0, fmt.Errorf("no data descriptor matching the central directory at offset %d", off)
}

func hasSig(ra io.ReaderAt, off int64, sig []byte) bool {
	var b [4]byte
	_, err := ra.ReadAt(b[:], off)
	return err == nil && bytes.Equal(b[:], sig)
}
