package spec

import (
	"path/filepath"
	"testing"
)

func BenchmarkLoad(b *testing.B) {
	for _, p := range []string{
		filepath.Join("testdata", "full.yml"),
		real("azureml-examples", "docker-image-plus-conda.yml"),
		real("glioma-v1"),
		// Reads and merges the curated definition too.
		extends("my-sklearn.yml"),
	} {
		b.Run(filepath.Base(p), func(b *testing.B) {
			for b.Loop() {
				if _, err := Load(p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkWriteNative(b *testing.B) {
	def, err := Load(filepath.Join("testdata", "full.yml"))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, _, err := Write(def, FormatNative, false); err != nil {
			b.Fatal(err)
		}
	}
}
