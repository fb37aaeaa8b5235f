package frontend

import (
	"context"
	"strings"
	"testing"

	gwpb "github.com/moby/buildkit/frontend/gateway/pb"
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/util/apicaps"
)

// without is the full set of caps but id.
func without(caps *apicaps.CapList, id apicaps.CapID) apicaps.CapSet {
	var kept []*apicaps.PBCap
	for _, c := range caps.All() {
		if c.ID != string(id) {
			kept = append(kept, c)
		}
	}
	return caps.CapSet(kept)
}

// A daemon lacking any capability envkit needs fails before anything is
// solved, in envkit's words: the feature, the release that has it and
// the floor.
func TestBuildChecksCapabilities(t *testing.T) {
	for _, c := range capabilities {
		t.Run(string(c.id), func(t *testing.T) {
			g := condaGateway(t, condaEnv, lockFor(t, condaEnv, testRecipes(t, lockedRecipes...)), nil)
			if c.gateway {
				g.caps = without(&gwpb.Caps, c.id)
			} else {
				g.llbCaps = without(&pb.Caps, c.id)
			}
			_, err := Build(context.Background(), g)
			if err == nil {
				t.Fatal("built without the capability")
			}
			for _, want := range []string{c.what, string(c.id), c.since, "envkit needs BuildKit " + MinBuildKit} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
			if len(g.solves) != 0 || len(g.fetched) != 0 {
				t.Errorf("%d solves and %d fetches before the check failed", len(g.solves), len(g.fetched))
			}
		})
	}
}
