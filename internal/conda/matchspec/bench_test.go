package matchspec

import (
	"testing"

	"github.com/envkit/envkit/internal/conda/version"
)

func allDepends(b *testing.B, file string) []string {
	var out []string
	for _, r := range loadRecords(b, file) {
		out = append(out, r.Depends...)
		out = append(out, r.Constrains...)
	}
	return out
}

// BenchmarkParseIndex4 parses every depends and constrains string of
// conda-index4.json (with repeats, as a solver meets them) per iteration.
func BenchmarkParseIndex4(b *testing.B) {
	specs := allDepends(b, "conda-index4.json")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, s := range specs {
			if _, err := Parse(s); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(specs)), "specs/op")
}

// BenchmarkParseIndex4Cached is BenchmarkParseIndex4 through one Cache.
func BenchmarkParseIndex4Cached(b *testing.B) {
	specs := allDepends(b, "conda-index4.json")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var c Cache
		for _, s := range specs {
			if _, err := c.Parse(s); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(specs)), "specs/op")
}

// BenchmarkMatchesParsed matches a typical dependency against every record
// of conda-index4.json with pre-parsed versions.
func BenchmarkMatchesParsed(b *testing.B) {
	records := loadRecords(b, "conda-index4.json")
	versions := make([]version.Version, len(records))
	for i := range records {
		versions[i], _ = version.Parse(records[i].Version)
	}
	ms := MustParse("python >=2.7,<2.8.0a0")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j := i % len(records)
		ms.MatchesParsed(&records[j], versions[j])
	}
}
