package repodata

import (
	"os"
	"testing"
	"time"

	"github.com/envkit/envkit/internal/conformance"
)

var benchFiles = []string{"conda-index4.json", "pytorch_linux-64.json", "anaconda-r_linux-64.json"}

// BenchmarkParse reports MB/s of repodata JSON turned into Records.
func BenchmarkParse(b *testing.B) {
	benchmarkFiles(b, func(b *testing.B, data []byte) {
		if _, err := Parse("https://conda.anaconda.org/c", "linux-64", data); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkEncodingJSON is the same work through encoding/json and
// Record.UnmarshalJSON, the baseline the decoder replaced.
func BenchmarkEncodingJSON(b *testing.B) {
	benchmarkFiles(b, func(b *testing.B, data []byte) { reference(b, data) })
}

// benchmarkFiles runs decode on each of benchFiles, a sub-benchmark per
// file, reporting bytes, allocations and CPU throughput.
func benchmarkFiles(b *testing.B, decode func(b *testing.B, data []byte)) {
	for _, file := range benchFiles {
		data, err := os.ReadFile(conformance.Dir(b, "repodata", file))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(file, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			start := cpuTime()
			for b.Loop() {
				decode(b, data)
			}
			reportCPU(b, start, len(data))
		})
	}
}

// reportCPU adds MB per CPU-second: on a shared machine wall-clock MB/s
// measures the neighbours, CPU time measures the decoder.
func reportCPU(b *testing.B, start time.Duration, size int) {
	if used := cpuTime() - start; used > 0 {
		b.ReportMetric(float64(size)*float64(b.N)/used.Seconds()/1e6, "MB/cpu-s")
	}
}
