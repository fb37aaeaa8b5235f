package pkg

import (
	"fmt"
	"github.com/envkit/envkit/internal/conformance"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

var (
	benchOnce  sync.Once
	benchFiles []string
	benchBytes int64
)

// benchSet is every conformance package that Debian's cph extracts
// without help (see cphExtract for the few it cannot), so both sides do
// the same work.
func benchSet(b *testing.B) ([]string, int64) {
	benchOnce.Do(func() {
		if _, err := exec.LookPath("cph"); err != nil {
			b.Fatalf("cph (Debian package conda-package-handling) is not installed: %v", err)
		}
		dir := b.TempDir()
		for i, f := range conformancePackages(b) {
			if exec.Command("cph", "x", f, "--dest", filepath.Join(dir, fmt.Sprint(i))).Run() != nil {
				continue
			}
			st, _ := os.Stat(f)
			benchFiles = append(benchFiles, f)
			benchBytes += st.Size()
		}
	})
	return benchFiles, benchBytes
}

// BenchmarkExtract compares envkit's extraction with `cph x` on the same
// archives in the same run; MB/s are of archive bytes.
func BenchmarkExtract(b *testing.B) {
	b.Run("envkit", func(b *testing.B) {
		files, n := benchSet(b)
		b.SetBytes(n)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			dir := b.TempDir()
			for j, f := range files {
				if err := Extract(f, filepath.Join(dir, fmt.Sprint(j)), time.Unix(0, 0)); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(len(files)), "packages")
	})
	b.Run("cph", func(b *testing.B) {
		files, n := benchSet(b)
		b.SetBytes(n)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			dir := b.TempDir()
			for j, f := range files {
				if out, err := exec.Command("cph", "x", f, "--dest", filepath.Join(dir, fmt.Sprint(j))).CombinedOutput(); err != nil {
					b.Fatalf("cph x %s: %v\n%s", f, err, out)
				}
			}
		}
		b.ReportMetric(float64(len(files)), "packages")
	})
}

// BenchmarkExtractLargest isolates decompression from process start-up:
// the largest real archives, one by one, envkit only.
func BenchmarkExtractLargest(b *testing.B) {
	for _, name := range []string{
		"channels/conda_format_repo/linux-64/zlib-1.2.11-h7b6447c_3.conda",
		"channels/conda_format_repo/linux-64/zlib-1.2.11-h7b6447c_3.tar.bz2",
		"packages/rattler/ca-certificates-2024.7.4-hbcca054_0.conda",
	} {
		file := filepath.Join(conformancePackagesDir(b), name)
		st, err := os.Stat(file)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(filepath.Base(name), func(b *testing.B) {
			b.SetBytes(st.Size())
			for i := 0; i < b.N; i++ {
				if err := Extract(file, filepath.Join(b.TempDir(), "x"), time.Unix(0, 0)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func conformancePackagesDir(b *testing.B) string {
	return conformance.Dir(b)
}
