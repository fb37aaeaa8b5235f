package shards

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/envkit/envkit/internal/conda/fetch"
	"github.com/envkit/envkit/internal/conformance"
	"github.com/vmihailenco/msgpack/v5"
)

// seeds adds the msgpack (decompressed) of conda-index's own shards and
// index and of envkit's writer.
func seeds(f *testing.F, index bool) {
	dir := conformance.Dir(f, "channels", "conda_format_repo", "linux-64")
	files, _ := filepath.Glob(filepath.Join(dir, "*.msgpack.zst"))
	for _, file := range files {
		if (filepath.Base(file) == IndexFile) != index {
			continue
		}
		zst, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		data, err := fetch.Decompress(bytes.NewReader(zst), fetch.Zstd, MaxShard)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	zst, sum, err := EncodeShard(genRecords(rand.New(rand.NewPCG(9, 9)), "seed", 3), []string{"seed-0-0.conda"})
	if err != nil {
		f.Fatal(err)
	}
	if index {
		zst = EncodeIndex(&Index{Info: Info{BaseURL: "../x/", ShardsBaseURL: "./shards/", Subdir: "noarch", CreatedAt: "2026-01-01T00:00:00Z"}, Shards: map[string]Sum{"seed": sum}})
	}
	data, err := fetch.Decompress(bytes.NewReader(zst), fetch.Zstd, MaxShard)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
}

// validMsgpack holds data to be one msgpack document by the library's
// own structural reader (maps may have keys of any type).
func validMsgpack(t *testing.T, data []byte) {
	in := bytes.NewReader(data)
	if err := msgpack.NewDecoder(in).Skip(); err != nil || in.Len() > 0 {
		t.Fatalf("accepted invalid msgpack %q: %v, %d bytes left", data, err, in.Len())
	}
}

// FuzzShard: no input panics the shard decoder or makes it allocate
// more than the input holds, it never accepts what is not msgpack, and
// what it accepts has package filenames for keys.
func FuzzShard(f *testing.F) {
	seeds(f, false)
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := parseShard(data)
		if err != nil {
			return
		}
		validMsgpack(t, data)
		for _, r := range append(s.Packages, s.Conda...) {
			if r.Filename == "" || len(r.SHA256)%64 != 0 || len(r.MD5)%32 != 0 {
				t.Fatalf("record %+v", r)
			}
		}
	})
}

// FuzzIndex: the same for the shard index.
func FuzzIndex(f *testing.F) {
	seeds(f, true)
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := parseIndex(data); err != nil {
			return
		}
		validMsgpack(t, data)
	})
}
