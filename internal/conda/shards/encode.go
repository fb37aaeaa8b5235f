package shards

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/klauspost/compress/zstd"
	"github.com/vmihailenco/msgpack/v5"
)

// Raw is one package record as a channel publishes it: the fields of
// the archive's info/index.json plus size, md5 and sha256 (hex). Values
// are as encoding/json gives them with UseNumber (json.Number for
// numbers), or Go strings, integers, bools, []string, []any and
// map[string]any.
type Raw map[string]any

// The writers' output is deterministic: map keys sorted, integers in
// their smallest encoding, zstd at a fixed level on one goroutine.
var (
	encoderOnce sync.Once
	encoder     *zstd.Encoder
)

// Compress zstd-compresses data as every file this package writes is.
func Compress(data []byte) []byte {
	encoderOnce.Do(func() {
		// NewWriter(nil) only fails on bad options.
		encoder, _ = zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedDefault))
	})
	return encoder.EncodeAll(data, make([]byte, 0, len(data)/4+64))
}

type writer struct {
	buf bytes.Buffer
	e   *msgpack.Encoder
}

func newWriter() *writer {
	w := &writer{}
	w.e = msgpack.NewEncoder(&w.buf)
	w.e.UseCompactInts(true)
	return w
}

// EncodeIndex writes ix, zstd-compressed. Version 0 is written as
// Version.
func EncodeIndex(ix *Index) []byte {
	w := newWriter()
	e := w.e
	e.EncodeMapLen(3)
	e.EncodeString("info")
	info := map[string]string{
		"base_url":        ix.Info.BaseURL,
		"shards_base_url": ix.Info.ShardsBaseURL,
		"subdir":          ix.Info.Subdir,
	}
	if ix.Info.CreatedAt != "" {
		info["created_at"] = ix.Info.CreatedAt
	}
	e.EncodeMapLen(len(info))
	for _, k := range slices.Sorted(maps.Keys(info)) {
		e.EncodeString(k)
		e.EncodeString(info[k])
	}
	e.EncodeString("shards")
	e.EncodeMapLen(len(ix.Shards))
	for _, name := range slices.Sorted(maps.Keys(ix.Shards)) {
		sum := ix.Shards[name]
		e.EncodeString(name)
		e.EncodeBytes(sum[:])
	}
	e.EncodeString("version")
	e.EncodeInt(int64(max(ix.Version, Version)))
	return Compress(w.buf.Bytes())
}

// EncodeShard writes the shard of one package name: records maps
// filename → record, split by extension into packages (.tar.bz2) and
// packages.conda; sha256 and md5 become bytes (CEP 16). It returns the
// compressed shard and its sha256.
func EncodeShard(records map[string]Raw, removed []string) ([]byte, Sum, error) {
	var tarbz2, conda []string
	for fn := range records {
		switch {
		case strings.HasSuffix(fn, ".conda"):
			conda = append(conda, fn)
		case strings.HasSuffix(fn, ".tar.bz2"):
			tarbz2 = append(tarbz2, fn)
		default:
			return nil, Sum{}, fmt.Errorf("%q is not a package filename (.tar.bz2 or .conda)", fn)
		}
	}
	w := newWriter()
	e := w.e
	e.EncodeMapLen(3)
	for _, part := range []struct {
		key   string
		names []string
	}{{"packages", tarbz2}, {"packages.conda", conda}} {
		e.EncodeString(part.key)
		e.EncodeMapLen(len(part.names))
		slices.Sort(part.names)
		for _, fn := range part.names {
			e.EncodeString(fn)
			if err := w.record(records[fn]); err != nil {
				return nil, Sum{}, fmt.Errorf("%s: %w", fn, err)
			}
		}
	}
	e.EncodeString("removed")
	e.EncodeArrayLen(len(removed))
	for _, fn := range slices.Sorted(slices.Values(removed)) {
		e.EncodeString(fn)
	}
	zst := Compress(w.buf.Bytes())
	return zst, sha256.Sum256(zst), nil
}

// record writes a record with sorted keys, its checksums as bytes.
func (w *writer) record(rec Raw) error {
	w.e.EncodeMapLen(len(rec))
	for _, k := range slices.Sorted(maps.Keys(rec)) {
		w.e.EncodeString(k)
		size := map[string]int{"md5": 16, "sha256": sha256.Size}[k]
		if s, ok := rec[k].(string); ok && size > 0 {
			b, err := hex.DecodeString(s)
			if err != nil || len(b) != size {
				return fmt.Errorf("%s %q: want %d hex digits", k, s, 2*size)
			}
			w.e.EncodeBytes(b)
			continue
		}
		if err := w.value(k, rec[k], 0); err != nil {
			return err
		}
	}
	return nil
}

// value writes one JSON-like value, maps with sorted keys.
func (w *writer) value(key string, v any, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("%s: nested more than %d deep", key, maxDepth)
	}
	e := w.e
	switch v := v.(type) {
	case nil:
		return e.EncodeNil()
	case bool:
		return e.EncodeBool(v)
	case string:
		return e.EncodeString(v)
	case int:
		return e.EncodeInt(int64(v))
	case int64:
		return e.EncodeInt(v)
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
			return e.EncodeInt(int64(v))
		}
		return e.EncodeFloat64(v)
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return e.EncodeInt(n)
		}
		f, err := v.Float64()
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		return e.EncodeFloat64(f)
	case []string:
		if v == nil {
			return e.EncodeNil() // null, as encoding/json writes it
		}
		e.EncodeArrayLen(len(v))
		for _, s := range v {
			e.EncodeString(s)
		}
		return nil
	case []any:
		if v == nil {
			return e.EncodeNil()
		}
		e.EncodeArrayLen(len(v))
		for _, x := range v {
			if err := w.value(key, x, depth+1); err != nil {
				return err
			}
		}
		return nil
	case map[string]any:
		if v == nil {
			return e.EncodeNil()
		}
		e.EncodeMapLen(len(v))
		for _, k := range slices.Sorted(maps.Keys(v)) {
			e.EncodeString(k)
			if err := w.value(key, v[k], depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("%s: cannot encode a %T", key, v)
}
