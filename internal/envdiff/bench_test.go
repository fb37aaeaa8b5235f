package envdiff

import (
	"testing"

	"github.com/envkit/envkit/internal/conda/lock"
	"github.com/envkit/envkit/internal/spec"
)

// BenchmarkCompare: two definitions and two real locks (about 40 packages
// each), as envkit diff compares them after reading.
func BenchmarkCompare(b *testing.B) {
	a, err := spec.Load("testdata/a/environment.yml")
	if err != nil {
		b.Fatal(err)
	}
	c, err := spec.Load("testdata/b/environment.yml")
	if err != nil {
		b.Fatal(err)
	}
	la, err := lock.ReadFile("../conda/lock/testdata/mamba-good_multiple_categories-lock.yaml")
	if err != nil {
		b.Fatal(err)
	}
	lb, err := lock.ReadFile("../conda/lock/testdata/mamba-good_one_package_missing_category-lock.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compare(a, c, la, lb); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPipName(b *testing.B) {
	for b.Loop() {
		pipName("Azure_Storage.Blob[aio]==12.19.0 ; python_version>'3'")
	}
}
