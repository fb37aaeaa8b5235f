package curated_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/envkit/envkit/curated"
	"github.com/envkit/envkit/internal/hash"
	"github.com/envkit/envkit/internal/lint"
	"github.com/envkit/envkit/internal/spec"
)

func TestNames(t *testing.T) {
	want := []string{"python", "pytorch-cpu", "pytorch-cuda", "sklearn", "spark", "tensorflow"}
	if got := curated.Names(); !slices.Equal(got, want) {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
}

// Every curated environment is a valid envkit definition named as its file,
// with distinct hashes, no lint warning, and channels the harness mirrors.
func TestDefinitionsValidate(t *testing.T) {
	seen := map[string]string{}
	for _, name := range curated.Names() {
		data, err := curated.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		def, err := spec.Parse(curated.FileName(name), data, curated.FS())
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if def.Source.Format != spec.FormatNative || def.Name != name || def.Description == "" || def.Tags["curated"] != "true" {
			t.Errorf("%s: format %s, name %q, description %q, tags %v", name, def.Source.Format, def.Name, def.Description, def.Tags)
		}
		if def.Conda == nil {
			t.Errorf("%s: no conda environment", name)
			continue
		}
		for _, ch := range def.Conda.ChannelNames() {
			if ch != "conda-forge" && ch != "defaults" {
				t.Errorf("%s: channel %q: curated environments use conda-forge or defaults only", name, ch)
			}
		}
		for _, f := range lint.Check(def) {
			t.Errorf("%s: lint: %+v", name, f)
		}
		sum, err := hash.Of(def)
		if err != nil {
			t.Fatal(err)
		}
		if other, dup := seen[sum]; dup {
			t.Errorf("%s and %s hash the same", name, other)
		}
		seen[sum] = name
	}
}

func TestGet(t *testing.T) {
	a, err := curated.Get("sklearn")
	if err != nil {
		t.Fatal(err)
	}
	b, err := curated.Get("curated/sklearn")
	if err != nil || string(a) != string(b) {
		t.Fatalf("Get with the curated/ prefix: %v", err)
	}
	if _, err := curated.Get("nope"); err == nil || !strings.Contains(err.Error(), "there are: python, pytorch-cpu") {
		t.Fatalf("Get(nope): %v", err)
	}
}
