package lock

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkMarshal writes the 33-package numpy lock (envkit lock's last
// step, and the frontend's staleness check reads it back).
func BenchmarkMarshal(b *testing.B) {
	l := lockOf(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := l.Marshal(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRead(b *testing.B) {
	data, err := lockOf(b).Marshal()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Read("conda-lock.yml", data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadPackages reads locks of 1k, 10k and 50k packages (50k is
// about 17 MB): ns/pkg stays flat, reading is linear in the packages.
func BenchmarkReadPackages(b *testing.B) {
	for _, n := range []int{1000, 10000, 50000} {
		l := &Lock{Metadata: Metadata{ContentHash: map[string]string{"linux-64": "0"}, Channels: []Channel{{URL: "conda-forge"}}, Platforms: []string{"linux-64"}}}
		for i := range n {
			name := fmt.Sprintf("pkg%d", i)
			l.Packages = append(l.Packages, Package{
				Name: name, Version: "1.0", Manager: Conda, Platform: "linux-64", Category: "main",
				Dependencies: map[string]string{"python": ">=3.10,<3.11.0a0", fmt.Sprintf("pkg%d", i/2): ""},
				URL:          "https://conda.anaconda.org/conda-forge/linux-64/" + name + "-1.0-h0_0.conda",
				Hash:         Hash{MD5: "d65ab674acf3b7294ebacaec05fc5b54", SHA256: strings.Repeat("ab", 32)},
			})
		}
		data, err := l.Marshal()
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := Read("conda-lock.yml", data); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/pkg")
		})
	}
}
