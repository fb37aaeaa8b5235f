//go:build integration

package integration

import (
	"encoding/json"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/envkit/envkit/internal/conda/lock"
)

// TestBuildxSBOM: docker buildx build --sbom=true through # syntax= pushes
// an image index whose attestation manifest holds envkit's SPDX document,
// listing exactly the lock's packages (name, version, sha256); the
// platform image is the one built without an SBOM.
func TestBuildxSBOM(t *testing.T) {
	dir := syntaxContext(t, helloDefinition(env.channel))
	file := filepath.Join(dir, "environment.yml")
	repo := env.Registry + "/envkit/sbom"
	builder := "envkit-sbom-" + filepath.Base(t.TempDir())
	run(t, time.Minute, "docker-buildx", "create", "--name", builder, "--driver", "remote", env.BuildkitHost)
	t.Cleanup(func() { runErr(time.Minute, nil, "docker-buildx", "rm", builder) })
	build := func(tag string, sbom bool) string {
		meta := filepath.Join(t.TempDir(), tag+".json")
		run(t, 15*time.Minute, "docker-buildx", "build", "--builder", builder, "--progress", "plain",
			"-f", file, "--provenance=false", "--sbom="+map[bool]string{true: "true", false: "false"}[sbom],
			"--build-arg", "SOURCE_DATE_EPOCH="+epoch, "--output", imageOutput(repo+":"+tag), "--metadata-file", meta, dir)
		return metadataDigest(t, meta)
	}
	plain := build("plain", false)
	withSBOM := build("sbom", true)

	image, attestation := indexManifests(t, repo+"@"+withSBOM)
	if image != plain {
		t.Errorf("the image with an SBOM is %s, without %s", image, plain)
	}
	if attestation == "" {
		t.Fatalf("no attestation manifest in %s", withSBOM)
	}
	var got []string
	for _, a := range attestations(t, repo, attestation) {
		if a.PredicateType != "https://spdx.dev/Document" {
			continue
		}
		var statement struct {
			Predicate struct {
				Packages []struct {
					Name         string `json:"name"`
					VersionInfo  string `json:"versionInfo"`
					ExternalRefs []struct {
						Locator string `json:"referenceLocator"`
					} `json:"externalRefs"`
					Checksums []struct {
						Algorithm string `json:"algorithm"`
						Value     string `json:"checksumValue"`
					} `json:"checksums"`
				} `json:"packages"`
			} `json:"predicate"`
		}
		if err := json.Unmarshal(a.Statement, &statement); err != nil {
			t.Fatal(err)
		}
		for _, p := range statement.Predicate.Packages {
			if len(p.ExternalRefs) == 0 || !strings.HasPrefix(p.ExternalRefs[0].Locator, "pkg:conda/") {
				continue
			}
			for _, c := range p.Checksums {
				if c.Algorithm == "SHA256" {
					got = append(got, p.Name+" "+p.VersionInfo+" "+c.Value)
				}
			}
		}
	}
	l, err := lock.ReadFile(filepath.Join(dir, "conda-lock.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, p := range l.ForPlatform("linux-64") {
		want = append(want, p.Name+" "+p.Version+" "+p.Hash.SHA256)
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the SBOM lists\n%s\nthe lock pins\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
