package frontend

import (
	"context"
	"strings"
	"testing"

	"github.com/moby/buildkit/exporter/containerimage/exptypes"

	"github.com/envkit/envkit/internal/buildplan"
	"github.com/envkit/envkit/internal/conda/lock"
	"github.com/envkit/envkit/internal/platform"
	"github.com/envkit/envkit/internal/spec"
)

// TestBuildEveryPlatform builds a definition listing every platform of
// the table from a lock made for all of them: the frontend accepts each
// platform envkit lock accepts (cmd/envkit's TestLockEveryDefinitionPlatform
// locks the same list, pip included), each image is for its platform and
// links the packages locked for its subdir.
func TestBuildEveryPlatform(t *testing.T) {
	var ids []string
	for _, p := range platform.All() {
		ids = append(ids, p.String())
	}
	definition := "platforms: [" + strings.Join(ids, ", ") + "]\n" + condaEnv
	def, err := spec.Parse("environment.yml", []byte(definition), nil)
	if err != nil {
		t.Fatal(err)
	}
	in := buildplan.LockInputs(def, buildplan.Options{})
	lk := &lock.Lock{Metadata: lock.Metadata{
		ContentHash: map[string]string{},
		Channels:    []lock.Channel{{URL: "http://127.0.0.1:8000/test-recipes"}},
		Sources:     []string{"environment.yml"},
	}}
	for _, p := range platform.All() {
		lk.Metadata.Platforms = append(lk.Metadata.Platforms, p.Subdir)
		lk.Metadata.ContentHash[p.Subdir] = lock.ContentHash(in, p.Subdir)
		lk.Packages = append(lk.Packages, lock.FromRecords(p.Subdir, testRecipes(t, lockedRecipes...))...)
	}
	lockData, err := lk.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	g := condaGateway(t, definition, lockData, nil)
	res, err := Build(context.Background(), g)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.solves) != len(ids) {
		t.Fatalf("%d solves, want one per platform (%d)", len(g.solves), len(ids))
	}
	for _, id := range ids {
		if _, ok := res.Refs[id]; !ok {
			t.Errorf("no result for %s", id)
			continue
		}
		img := imageOf(t, res, exptypes.ExporterImageConfigKey+"/"+id)
		if got := platform.Format(img.Platform); got != id {
			t.Errorf("%s: image config is for %s", id, got)
		}
	}
}
