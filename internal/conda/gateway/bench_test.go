package gateway

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/envkit/envkit/internal/conda/channel"
	"github.com/envkit/envkit/internal/conda/fetch"
	"github.com/envkit/envkit/internal/conda/shards"
)

// BenchmarkLoad reads what a solve of 30 names needs from a channel of
// about 100,000 records over HTTP: sharded, monolithic
// (repodata.json.zst, scanned in two passes), and every record (what
// envkit read before the gateway). fetched-B is the bytes transferred,
// json-% that as a share of the uncompressed repodata.json bytes.
func BenchmarkLoad(b *testing.B) {
	// About 100,000 records (8,000 names) written both ways; a
	// benchmark with sub-benchmarks runs its body once.
	dir := b.TempDir()
	names := genChannel(b, filepath.Join(dir, "sharded"), shards.Sharded, 8000, 11, 100)
	genChannel(b, filepath.Join(dir, "monolithic"), shards.Monolithic, 8000, 11, 100)
	srv := serve(b, dir)
	var roots []string
	for i := len(names) - 1; len(roots) < 30; i -= 97 {
		roots = append(roots, names[i])
	}
	var jsonBytes int64
	for _, sd := range []string{"linux-64", "noarch"} {
		st, err := os.Stat(filepath.Join(dir, "monolithic", sd, "repodata.json"))
		if err != nil {
			b.Fatal(err)
		}
		jsonBytes += st.Size()
	}
	vp := noVirtual(b)
	for _, c := range []struct {
		name string
		load func(ch channel.Channel) (records int, fetched int64)
	}{
		{"sharded", func(ch channel.Channel) (int, int64) {
			res, err := (&Gateway{}).Load(context.Background(), Request{Channels: []channel.Channel{ch}, Platform: "linux-64", Specs: roots, Virtual: vp})
			if err != nil {
				b.Fatal(err)
			}
			return res.Stats.Records, res.Stats.Bytes
		}},
		{"monolithic", func(ch channel.Channel) (int, int64) {
			res, err := (&Gateway{}).Load(context.Background(), Request{Channels: []channel.Channel{ch}, Platform: "linux-64", Specs: roots, Virtual: vp})
			if err != nil {
				b.Fatal(err)
			}
			return res.Stats.Records, res.Stats.Bytes
		}},
		{"every-record", func(ch channel.Channel) (int, int64) {
			c := &fetch.Client{}
			recs, err := c.LoadRecords(context.Background(), []channel.Channel{ch}, "linux-64")
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for _, rs := range recs {
				n += len(rs)
			}
			_, fetched := c.Transferred()
			return n, fetched
		}},
	} {
		form := c.name
		if form == "every-record" {
			form = "monolithic"
		}
		ch := testChannel("bench", srv.URL+"/"+form)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var records int
			var fetched int64
			for b.Loop() {
				records, fetched = c.load(ch)
			}
			b.ReportMetric(float64(records), "records")
			b.ReportMetric(float64(fetched), "fetched-B")
			b.ReportMetric(100*float64(fetched)/float64(jsonBytes), "json-%")
		})
	}
}
