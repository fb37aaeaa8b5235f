package version

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/envkit/envkit/internal/conformance"
)

// realVersions reads the version strings of parsed_versions.txt.
func realVersions(b *testing.B) []string {
	f, err := os.Open(conformance.Dir(b, "versions", "parsed_versions.txt"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if i := strings.Index(sc.Text(), "=["); i > 0 && !strings.HasPrefix(sc.Text(), "#") {
			out = append(out, sc.Text()[:i])
		}
	}
	return out
}

func BenchmarkParse(b *testing.B) {
	in := realVersions(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Parse(in[i%len(in)]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompare(b *testing.B) {
	in := realVersions(b)
	vs := make([]Version, len(in))
	for i, s := range in {
		vs[i] = MustParse(s)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		vs[i%len(vs)].Compare(vs[(i*7919+1)%len(vs)])
	}
}

func BenchmarkSpecMatches(b *testing.B) {
	in := realVersions(b)
	vs := make([]Version, len(in))
	for i, s := range in {
		vs[i] = MustParse(s)
	}
	spec := MustParseSpec(">=1.21,<2.0a0|1.19.*")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		spec.Matches(vs[i%len(vs)])
	}
}

func BenchmarkCompareTypical(b *testing.B) {
	x, y := MustParse("1.21.3"), MustParse("1.21.10")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		x.Compare(y)
	}
}
