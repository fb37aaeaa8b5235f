package registry

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/envkit/envkit/internal/imagemeta"
	"github.com/envkit/envkit/internal/registry/registrytest"
)

// ReadImageFiles reads envkit's layers only, keeps what want selects as
// the last layer leaves it (a later record replaces an earlier one, a
// whiteout removes it), and gives the history of envkit's layers.
func TestReadImageFiles(t *testing.T) {
	ctx := context.Background()
	host := registrytest.Start(t, "", "")
	record := "opt/conda/conda-meta/python-3.12.7-0.json"
	gone := "opt/conda/conda-meta/tzdata-2024b-0.json"
	jar := "opt/conda/share/envkit/spark/jars/util-1.0.jar"
	registrytest.PushImage(t, host, "images/env", "1", nil,
		registrytest.Layer{Files: map[string]string{"usr/conda/conda-meta/base-1-0.json": "{}"}, CreatedBy: "# base"},
		registrytest.Layer{Files: map[string]string{record: "first", gone: "x", "opt/conda/bin/python": "ELF"}, CreatedBy: "envkit link python tzdata", Comment: imagemeta.CondaPackageLayer},
		registrytest.Layer{Files: map[string]string{record: "finalized", "opt/conda/conda-meta/.wh.tzdata-2024b-0.json": ""}, CreatedBy: "envkit link --finalize", Comment: imagemeta.CondaEnvironment},
		registrytest.Layer{Files: map[string]string{jar: "PK"}, CreatedBy: "envkit spark jars g:util:1.0", Comment: imagemeta.SparkLayer},
	)
	var asked []string
	got, err := anonymous().ReadImageFiles(ctx, host+"/images/env:1", "", func(comment, name string) (bool, bool) {
		asked = append(asked, comment+" "+name)
		return strings.Contains(name, "conda-meta/") || name == jar, name == jar
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{record: "finalized"}; len(got.Files) != 1 || string(got.Files[record]) != "finalized" {
		t.Errorf("files %q, want %q", got.Files, want)
	}
	if want := "fcab7fcc2b4cffd9bb45003bfc2e468a04ef6f77ca8200a7341f027631584d25"; len(got.SHA256) != 1 || got.SHA256[jar] != want { // sha256("PK")
		t.Errorf("digests %q, want the jar's %s", got.SHA256, want)
	}
	if slices.ContainsFunc(asked, func(s string) bool { return strings.Contains(s, "usr/conda") }) {
		t.Errorf("the base layer was read: %q", asked)
	}
	if keys := slices.Sorted(maps.Keys(got.CreatedBy)); !slices.Equal(keys, slices.Sorted(slices.Values([]string{imagemeta.CondaEnvironment, imagemeta.CondaPackageLayer, imagemeta.SparkLayer}))) || got.CreatedBy[imagemeta.CondaPackageLayer][0] != "envkit link python tzdata" {
		t.Errorf("history %q", got.CreatedBy)
	}
	if got.Config.Architecture != "amd64" || !strings.HasPrefix(got.Digest, "sha256:") {
		t.Errorf("config %+v, digest %s", got.Config.Platform, got.Digest)
	}

	registrytest.PushImage(t, host, "library/debian", "1", nil, registrytest.Layer{Files: map[string]string{"etc/os-release": "ID=debian\n"}, CreatedBy: "# debian.sh"})
	if _, err := anonymous().ReadImageFiles(ctx, host+"/library/debian:1", "", func(string, string) (bool, bool) { return true, false }); err == nil || !strings.Contains(err.Error(), "not an image envkit built") {
		t.Errorf("an image envkit did not build: %v", err)
	}
	if _, err := anonymous().ReadImageFiles(ctx, host+"/images/env:2", "", func(string, string) (bool, bool) { return true, false }); !errors.Is(err, ErrImageNotFound) {
		t.Errorf("a missing tag: %v", err)
	}
}
