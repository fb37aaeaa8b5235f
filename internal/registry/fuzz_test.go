package registry

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"path"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
)

// FuzzManifest feeds manifests to the reader pull uses: it never panics,
// and whatever it accepts names only files inside the pull directory.
func FuzzManifest(f *testing.F) {
	env := testEnv("sha256:aaaa")
	annotations, err := env.manifestAnnotations(3, pushTime)
	if err != nil {
		f.Fatal(err)
	}
	var layers []ocispec.Descriptor
	for _, file := range sortedFiles(env.Files) {
		d := content.NewDescriptorFromBytes(roleMediaType[file.Role], file.Data)
		d.Annotations = map[string]string{ocispec.AnnotationTitle: file.Path}
		layers = append(layers, d)
	}
	good, err := json.Marshal(ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, ArtifactType: ArtifactType, Layers: layers, Annotations: annotations})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"artifactType":"application/vnd.envkit.environment.v1","annotations":{"dev.envkit.environment.version":"1","dev.envkit.environment.hash":"sha256:x"},"layers":[{"mediaType":"application/vnd.envkit.environment.file.v1","annotations":{"org.opencontainers.image.title":"a/../../b"}}]}`))
	f.Add([]byte(`{"config":{"mediaType":"application/vnd.oci.image.config.v1+json"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseManifest("fuzz", ocispec.MediaTypeImageManifest, data)
		if err != nil {
			return
		}
		if m.ArtifactType != ArtifactType {
			t.Fatalf("accepted artifactType %q", m.ArtifactType)
		}
		if _, err := versionOf("fuzz", m, ""); err != nil {
			return
		}
		for _, d := range m.Layers {
			file, err := layerFile("fuzz", d)
			if err != nil {
				continue
			}
			if p := file.Path; path.IsAbs(p) || p != path.Clean(p) || p == ".." || strings.HasPrefix(p, "../") || strings.Contains(p, "\\") {
				t.Fatalf("accepted path %q", p)
			}
		}
	})
}

// FuzzCondaMetaRecords reads arbitrary bytes as a layer tar: no panic, and
// every package it reports has a name and a version.
func FuzzCondaMetaRecords(f *testing.F) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	body := `{"name":"python","version":"3.12.7","build":"h_0"}`
	tw.WriteHeader(&tar.Header{Name: "opt/conda/conda-meta/python-3.12.7-h_0.json", Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
	tw.Write([]byte(body))
	tw.Close()
	f.Add(buf.Bytes())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		pkgs, err := condaMetaRecords(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, p := range pkgs {
			if strings.HasPrefix(p, "-") || strings.Count(p, "-") < 2 {
				t.Fatalf("package %q lacks a name or version", p)
			}
		}
	})
}

// FuzzParseRef: no panic; an accepted reference prints back to itself.
func FuzzParseRef(f *testing.F) {
	for _, s := range []string{"localhost:5000/envs/sklearn", "localhost:5000/envs/sklearn:3", "r.example/a/b:latest", "x/y@sha256:00", "a:b/c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ref, err := ParseRef(s)
		if err != nil {
			return
		}
		again, err := ParseRef(ref.String())
		if err != nil || again != ref {
			t.Fatalf("%q -> %q -> %v, %v", s, ref, again, err)
		}
	})
}
