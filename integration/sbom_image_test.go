//go:build integration

package integration

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSbomOfBuiltImage: envkit sbom of an image envkit build pushed is
// envkit sbom of its definition and lock, byte for byte, both --lock-only
// (a lock holds no licences; the image's conda-meta does) and the base
// pinned by digest (envkit sbom FILE asks no registry for it; the image's
// label has the digest the build resolved). docs/sbom.md, "From an image".
func TestSbomOfBuiltImage(t *testing.T) {
	server, _ := pipServer(t)
	for name, def := range map[string]string{
		"hello": helloDefinition(env.channel),
		// Wheels and jars: their archive sha256, URL and edges come from
		// the image's pins label.
		"pip-demo": pipDefinition(env.channel, server, "1.0"),
	} {
		t.Run(name, func(t *testing.T) { sbomOfBuiltImage(t, name, def) })
	}
}

func sbomOfBuiltImage(t *testing.T, name, def string) {
	dir := writeFiles(t, map[string]string{"environment.yml": def})
	file := filepath.Join(dir, "environment.yml")
	run(t, 2*time.Minute, "envkit", "lock", file)
	var ins struct {
		BaseImage  string `json:"base_image"`
		BaseDigest string `json:"base_digest"`
	}
	if err := json.Unmarshal([]byte(run(t, time.Minute, "envkit", "inspect", "--json", "--mirror", "docker.io="+env.Registry, file)), &ins); err != nil || ins.BaseDigest == "" {
		t.Fatalf("envkit inspect: %v, base %+v", err, ins)
	}
	pinned := strings.Replace(def, "image: "+ins.BaseImage+"\n", "image: "+ins.BaseImage+"@"+ins.BaseDigest+"\n", 1)
	if pinned == def {
		t.Fatalf("the base %s is not in the definition:\n%s", ins.BaseImage, def)
	}
	dir = writeFiles(t, map[string]string{"environment.yml": pinned})
	file = filepath.Join(dir, "environment.yml")
	run(t, 2*time.Minute, "envkit", "lock", file)

	repo := env.Registry + "/envkit/sbom-image-" + name
	meta := filepath.Join(dir, "meta.json")
	run(t, 15*time.Minute, "envkit", "build", file, "--addr", env.BuildkitHost, "--push", repo,
		"--progress", "plain", "--metadata-file", meta, "--build-arg", "SOURCE_DATE_EPOCH="+epoch)
	image := repo + "@" + metadataDigest(t, meta)

	for _, format := range []string{"spdx", "cyclonedx"} {
		fromImage := run(t, 2*time.Minute, "envkit", "sbom", "--lock-only", "--format", format, "--name", name, image)
		fromFile, errOut, err := runErr(time.Minute, []string{"SOURCE_DATE_EPOCH=" + epoch}, "envkit", "sbom", "--lock-only", "--format", format, file)
		if err != nil {
			t.Fatalf("envkit sbom %s: %v\n%s", file, err, errOut)
		}
		if !strings.Contains(fromFile, "pkg:conda/python@3.11") || !strings.Contains(fromFile, ins.BaseDigest[len("sha256:"):]) {
			t.Fatalf("%s: the definition's document lacks python or the base digest:\n%s", format, fromFile)
		}
		if fromImage != fromFile {
			t.Errorf("%s: envkit sbom of the image:\n%s\nof the definition:\n%s", format, fromImage, fromFile)
		}
	}
}
