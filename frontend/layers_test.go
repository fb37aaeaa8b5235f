package frontend

import (
	"context"
	"strings"
	"testing"

	"github.com/envkit/envkit/internal/buildplan"
	"github.com/moby/buildkit/solver/pb"
)

// linkSteps counts the package link execs of a solve (the finalize step
// aside): one per package layer.
func linkSteps(t *testing.T, def *pb.Definition) int {
	t.Helper()
	n := 0
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			t.Fatal(err)
		}
		if ex := op.GetExec(); ex != nil {
			args := strings.Join(ex.Meta.Args, " ")
			if strings.Contains(args, " link ") && !strings.Contains(args, "--finalize") {
				n++
			}
		}
	}
	return n
}

func TestPackageLayersBuildArg(t *testing.T) {
	lockData := lockFor(t, condaEnv, testRecipes(t, lockedRecipes...))
	for _, tc := range []struct {
		arg  string
		want int
	}{{"", len(lockedRecipes)}, {"1", 1}, {"2", 2}, {"100", len(lockedRecipes)}} {
		opts := map[string]string{}
		if tc.arg != "" {
			opts["build-arg:"+buildplan.ArgPackageLayers] = tc.arg
		}
		g := condaGateway(t, condaEnv, lockData, opts)
		if _, err := Build(context.Background(), g); err != nil {
			t.Fatalf("%s=%q: %v", buildplan.ArgPackageLayers, tc.arg, err)
		}
		// Hash buckets may stay empty: at most the budget, at least one.
		if got := linkSteps(t, g.solves[0]); got > tc.want || got < 1 || (tc.arg == "" && got != tc.want) {
			t.Errorf("%s=%q: %d link steps, want at most %d", buildplan.ArgPackageLayers, tc.arg, got, tc.want)
		}
	}
	for _, bad := range []string{"0", "-3", "five", "2.5"} {
		g := condaGateway(t, condaEnv, lockData, map[string]string{"build-arg:" + buildplan.ArgPackageLayers: bad})
		_, err := Build(context.Background(), g)
		if err == nil || !strings.Contains(err.Error(), buildplan.ArgPackageLayers+"=") {
			t.Errorf("%s=%q: error %v, want one naming the argument", buildplan.ArgPackageLayers, bad, err)
		}
	}
}
