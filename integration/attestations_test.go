//go:build integration

package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// indexManifests reads the image index ref (a build with attestations)
// from the registry: its platform image manifest and its attestation
// manifest, "" for one it lacks.
func indexManifests(t *testing.T, ref string) (image, attestation string) {
	t.Helper()
	var index struct {
		Manifests []struct {
			Digest      string            `json:"digest"`
			Annotations map[string]string `json:"annotations"`
			Platform    *struct {
				Architecture string `json:"architecture"`
			} `json:"platform"`
		} `json:"manifests"`
	}
	if err := json.Unmarshal(skopeoRaw(t, ref), &index); err != nil {
		t.Fatal(err)
	}
	for _, m := range index.Manifests {
		switch {
		case m.Annotations["vnd.docker.reference.type"] == "attestation-manifest":
			attestation = m.Digest
		case m.Platform != nil && m.Platform.Architecture != "unknown":
			image = m.Digest
		}
	}
	return image, attestation
}

// attestation is one in-toto statement of an attestation manifest.
type attestation struct {
	PredicateType string
	Statement     []byte
}

// attestations reads the statements of the attestation manifest
// repo@digest, in layer order (skopeo copies it to an OCI layout).
func attestations(t *testing.T, repo, digest string) []attestation {
	t.Helper()
	layout := t.TempDir()
	cmd := execIn(t.Context(), ".", "skopeo", "copy", "--quiet", "--src-tls-verify=false", "docker://"+repo+"@"+digest, "oci:"+layout+":x")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("skopeo copy the attestation: %v\n%s", err, out)
	}
	var m struct {
		Layers []struct {
			Digest      string            `json:"digest"`
			Annotations map[string]string `json:"annotations"`
		} `json:"layers"`
	}
	if err := json.Unmarshal(skopeoRaw(t, repo+"@"+digest), &m); err != nil {
		t.Fatal(err)
	}
	var out []attestation
	for _, l := range m.Layers {
		data, err := os.ReadFile(filepath.Join(layout, "blobs", "sha256", strings.TrimPrefix(l.Digest, "sha256:")))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, attestation{PredicateType: l.Annotations["in-toto.io/predicate-type"], Statement: data})
	}
	return out
}
