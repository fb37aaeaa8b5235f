package frontend

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/in-toto/in-toto-golang/in_toto"
	gwpb "github.com/moby/buildkit/frontend/gateway/pb"
	"github.com/moby/buildkit/solver/pb"
)

// spdxOf reads the SPDX document of the attestation a solve wrote (the
// Mkfile of its one file op).
func spdxOf(t *testing.T, def *pb.Definition) map[string]any {
	t.Helper()
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			t.Fatal(err)
		}
		if f := op.GetFile(); f != nil {
			for _, a := range f.Actions {
				if mk := a.GetMkfile(); mk != nil && mk.Path == sbomFile {
					var doc map[string]any
					if err := json.Unmarshal(mk.Data, &doc); err != nil {
						t.Fatal(err)
					}
					return doc
				}
			}
		}
	}
	t.Fatal("no SBOM file in the solve")
	return nil
}

// Asked for an SBOM (buildx --sbom=true), the frontend attaches its own
// SPDX document per platform, listing the lock's packages and the base by
// digest, and the image itself is the one built without it.
func TestBuildAttachesSBOM(t *testing.T) {
	lockData := lockFor(t, condaEnv, testRecipes(t, lockedRecipes...))
	plain := condaGateway(t, condaEnv, lockData, nil)
	if _, err := Build(context.Background(), plain); err != nil {
		t.Fatal(err)
	}
	g := condaGateway(t, condaEnv, lockData, map[string]string{"attest:sbom": ""})
	res, err := Build(context.Background(), g)
	if err != nil {
		t.Fatal(err)
	}
	var atts int
	for id, as := range res.Attestations {
		for _, a := range as {
			if a.InToto.PredicateType != in_toto.PredicateSPDX || a.Path != sbomFile {
				t.Errorf("%s: attestation %+v", id, a)
			}
			atts++
		}
	}
	if atts != 1 {
		t.Fatalf("%d SBOM attestations, want one for linux/amd64", atts)
	}
	if len(g.solves) != 2 || len(g.solves[0].Def) != len(plain.solves[0].Def) {
		t.Fatalf("the build with an SBOM solved %d graphs; want the image's and the SBOM's", len(g.solves))
	}
	for i := range plain.solves[0].Def {
		if string(g.solves[0].Def[i]) != string(plain.solves[0].Def[i]) {
			t.Errorf("op %d of the image differs from the build without an SBOM", i)
		}
	}
	doc := spdxOf(t, g.solves[1])
	text, _ := json.Marshal(doc)
	for _, fn := range lockedRecipes {
		name := fn[:strings.Index(fn, "-1.0")]
		if !strings.Contains(string(text), `"name":"`+name+`"`) {
			t.Errorf("the SBOM lacks %s", name)
		}
	}
	if !strings.Contains(string(text), busyboxDigest) {
		t.Errorf("the SBOM does not name the base image's digest %s", busyboxDigest)
	}
}

// A daemon without attestations (before v0.11) asked for an SBOM says so
// in envkit's words instead of failing in BuildKit's.
func TestBuildSBOMNeedsAttestations(t *testing.T) {
	lockData := lockFor(t, condaEnv, testRecipes(t, lockedRecipes...))
	g := condaGateway(t, condaEnv, lockData, map[string]string{"attest:sbom": ""})
	g.caps = without(&gwpb.Caps, gwpb.CapAttestations)
	_, err := Build(context.Background(), g)
	if err == nil || !strings.Contains(err.Error(), "BuildKit v0.11.0 and later") || !strings.Contains(err.Error(), "envkit sbom FILE") {
		t.Errorf("error %v, want envkit's words about attestations", err)
	}
}
