package shards

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/envkit/envkit/internal/conda/repodata"
)

// benchShard is a large shard (a name with thousands of builds, as the
// heaviest conda-forge names have) and the same records as repodata.json.
func benchShard(b *testing.B) (zst []byte, sum Sum, jsonDoc []byte) {
	records := genRecords(rand.New(rand.NewPCG(13, 14)), "heavy", 5000)
	zst, sum, err := EncodeShard(records, nil)
	if err != nil {
		b.Fatal(err)
	}
	doc := map[string]any{"info": map[string]any{"subdir": "linux-64"}, "packages": map[string]Raw{}, "packages.conda": map[string]Raw{}}
	for fn, r := range records {
		key := "packages"
		if strings.HasSuffix(fn, ".conda") {
			key = "packages.conda"
		}
		doc[key].(map[string]Raw)[fn] = r
	}
	if jsonDoc, err = json.Marshal(doc); err != nil {
		b.Fatal(err)
	}
	return zst, sum, jsonDoc
}

// BenchmarkDecodeShard: check, decompress and decode a 5,000-record
// shard, and place its records; beside it, the same records read from
// repodata.json (BenchmarkParseJSONSameRecords).
func BenchmarkDecodeShard(b *testing.B) {
	zst, sum, _ := benchShard(b)
	b.SetBytes(int64(len(zst)))
	b.ReportAllocs()
	for b.Loop() {
		s, err := DecodeShard(zst, sum)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := repodata.Place("https://x/c", "https://x/c", repodata.Info{Subdir: "linux-64"}, s.Packages, s.Conda, s.Removed); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseJSONSameRecords(b *testing.B) {
	_, _, doc := benchShard(b)
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := repodata.Parse("https://x/c", "linux-64", doc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeShard: the writer side, per shard.
func BenchmarkEncodeShard(b *testing.B) {
	records := genRecords(rand.New(rand.NewPCG(13, 14)), "heavy", 5000)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := EncodeShard(records, nil); err != nil {
			b.Fatal(err)
		}
	}
}
