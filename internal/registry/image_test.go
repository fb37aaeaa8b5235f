package registry

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/envkit/envkit/internal/imagemeta"
	"github.com/envkit/envkit/internal/registry/registrytest"
)

// condaMeta is a conda-meta record as conda and envkit link write it (the
// fields inspect reads, and some it ignores).
func condaMeta(name, version, build string) string {
	return `{"name": "` + name + `", "version": "` + version + `", "build": "` + build + `", "channel": "https://conda.anaconda.org/conda-forge", "files": []}`
}

// builtImage pushes an image shaped like envkit's: a base layer, two
// package layers, the finalize layer.
func builtImage(t *testing.T, host string) string {
	return registrytest.PushImage(t, host, "images/env", "envkit-0123", map[string]string{"dev.envkit.definition-hash": "sha256:aaaa"},
		registrytest.Layer{Files: map[string]string{"etc/os-release": "ID=debian\n"}, CreatedBy: "# debian.sh"},
		registrytest.Layer{
			Files: map[string]string{
				"opt/conda/conda-meta/python-3.12.7-hc5c86c4_0_cpython.json": condaMeta("python", "3.12.7", "hc5c86c4_0_cpython"),
				"opt/conda/bin/python3.12":                                   "ELF",
				"opt/conda/conda-meta/tzdata-2024b-hc8b5060_0.json":          condaMeta("tzdata", "2024b", "hc8b5060_0"),
			},
			CreatedBy: "envkit link python-3.12.7-hc5c86c4_0_cpython tzdata-2024b-hc8b5060_0",
			Comment:   imagemeta.CondaPackageLayer,
		},
		registrytest.Layer{
			Files:     map[string]string{"opt/conda/conda-meta/pip-24.2-pyh8b19718_1.json": condaMeta("pip", "24.2", "pyh8b19718_1")},
			CreatedBy: "envkit link pip-24.2-pyh8b19718_1",
			Comment:   imagemeta.CondaPackageLayer,
		},
		registrytest.Layer{
			Files:     map[string]string{"opt/conda/conda-meta/history": "==> 2026-01-01 <==\n"},
			CreatedBy: "envkit link --finalize --prefix /opt/conda",
			Comment:   imagemeta.CondaEnvironment,
		},
	)
}

func TestInspectImage(t *testing.T) {
	ctx := context.Background()
	host := registrytest.Start(t, "", "")
	dgst := builtImage(t, host)
	c := anonymous()
	for _, read := range []bool{false, true} {
		img, err := c.InspectImage(ctx, host+"/images/env:envkit-0123", "", read)
		if err != nil {
			t.Fatal(err)
		}
		if img.Digest != dgst || img.ManifestDigest != dgst || img.Platform != "linux/amd64" || img.Labels["dev.envkit.definition-hash"] != "sha256:aaaa" {
			t.Fatalf("readLayers=%v: %+v", read, img)
		}
		if len(img.Layers) != 4 {
			t.Fatalf("readLayers=%v: %d layers", read, len(img.Layers))
		}
		want := [][]string{nil, {"python-3.12.7-hc5c86c4_0_cpython", "tzdata-2024b-hc8b5060_0"}, {"pip-24.2-pyh8b19718_1"}, nil}
		for i, l := range img.Layers {
			if !slices.Equal(l.Packages, want[i]) || l.Size <= 0 || !strings.HasPrefix(l.Digest, "sha256:") {
				t.Errorf("readLayers=%v: layer %d = %+v, want packages %v", read, i, l, want[i])
			}
		}
		if img.Layers[3].CreatedBy != "envkit link --finalize --prefix /opt/conda" {
			t.Errorf("history not matched to layers: %+v", img.Layers[3])
		}
	}
	if _, err := c.InspectImage(ctx, host+"/images/env:envkit-ffff", "", false); !errors.Is(err, ErrImageNotFound) {
		t.Fatalf("missing tag: %v", err)
	}
	if _, err := c.InspectImage(ctx, host+"/images/env:envkit-0123", "linux/arm64", false); err != nil {
		// A single manifest has no platforms to choose from: it is shown as it is.
		t.Fatalf("platform on a single manifest: %v", err)
	}
}

func TestResolveDigest(t *testing.T) {
	ctx := context.Background()
	host := registrytest.Start(t, "", "")
	dgst := registrytest.PushImage(t, host, "library/base", "1", nil, registrytest.Layer{Files: map[string]string{"a": "b"}})
	c := anonymous()
	got, err := c.ResolveDigest(ctx, host+"/library/base:1", nil)
	if err != nil || got != dgst {
		t.Fatalf("ResolveDigest = %s, %v; want %s", got, err, dgst)
	}
	pinned := "docker.io/library/debian@" + dgst
	if got, err := c.ResolveDigest(ctx, pinned, nil); err != nil || got != dgst {
		t.Fatalf("pinned: %s %v", got, err)
	}
	if _, err := c.ResolveDigest(ctx, host+"/library/base:2", nil); err == nil {
		t.Fatal("a missing tag resolved")
	}
	// Docker Hub names through a mirror, as the harness's buildkitd has.
	if got, err := c.ResolveDigest(ctx, "library/base:1", map[string]string{"docker.io": host}); err != nil || got != dgst {
		t.Fatalf("through a mirror: %s %v", got, err)
	}
}

func TestPickPlatform(t *testing.T) {
	index := ocispec.Index{Manifests: []ocispec.Descriptor{
		{Digest: "sha256:a", Platform: &ocispec.Platform{OS: "linux", Architecture: "amd64"}},
		{Digest: "sha256:b", Platform: &ocispec.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}},
		{Digest: "sha256:c"}, // an attestation manifest has no platform
	}}
	for platform, want := range map[string]string{"linux/amd64": "sha256:a", "linux/arm/v7": "sha256:b", "linux/arm64": "", "": ""} {
		d, err := pickPlatform(index, platform)
		if string(d.Digest) != want || (want == "") != (err != nil) {
			t.Errorf("pickPlatform(%q) = %s, %v; want %q", platform, d.Digest, err, want)
		}
	}
	if _, err := pickPlatform(index, "linux/s390x"); err == nil || !strings.Contains(err.Error(), "the index has: linux/amd64, linux/arm/v7") {
		t.Errorf("missing platform: %v", err)
	}
}
