package sbom

import "testing"

// BenchmarkDocuments: both documents of every record of Anaconda's r
// channel for linux-64 (one per name, licences declared), as a large
// environment's lock would give them.
func BenchmarkDocuments(b *testing.B) {
	pkgs := repodataRecords(b, "anaconda-r_linux-64.json", "https://repo.anaconda.com/pkgs/r", "linux-64")
	env := Environment{Name: "bench", Subdir: "linux-64", BaseImage: "docker.io/library/debian:bookworm-slim", Packages: pkgs}
	b.ReportAllocs()
	for b.Loop() {
		bom, err := New(env)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := bom.SPDX(); err != nil {
			b.Fatal(err)
		}
		if _, err := bom.CycloneDX(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(pkgs)), "packages")
}
