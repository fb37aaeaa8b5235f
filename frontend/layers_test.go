package frontend

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/solver/pb"

	"github.com/envkit/envkit/internal/buildplan"
	"github.com/envkit/envkit/internal/conda/lock"
	"github.com/envkit/envkit/internal/conda/repodata"
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

// linkOps are a solve's package link execs (their op bytes) by the names
// of the packages each links.
func linkOps(t *testing.T, def *pb.Definition) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			t.Fatal(err)
		}
		ex := op.GetExec()
		if ex == nil || slices.Contains(ex.Meta.Args, "--finalize") || !slices.Contains(ex.Meta.Args, "--record") {
			continue
		}
		var names []string
		for i, a := range ex.Meta.Args {
			if a == "--record" {
				var r struct{ Name string }
				if err := json.Unmarshal([]byte(ex.Meta.Args[i+1]), &r); err != nil {
					t.Fatal(err)
				}
				names = append(names, r.Name)
			}
		}
		out[strings.Join(names, " ")] = string(dt)
	}
	return out
}

// The sizes a lock records reach the layer grouping, and nothing else:
// within the budget a lock with sizes and the same lock without them
// (as conda-lock writes it) submit the same LLB; beyond it, the largest
// package (post_link_run_in_env_package, 5250 bytes) has the link step
// it has within the budget.
func TestLockSizesGroupTheLargest(t *testing.T) {
	recs := testRecipes(t, "activate_deactivate_package-1.0-0.conda", "clobber-a-1.0-0.conda", "clobber-b-1.0-0.conda",
		"dependency-1.0-0.conda", "dependent-1.0-0.conda", "post_link-b-1.0-0.conda", "post_link-c-1.0-0.conda",
		"post_link_run_in_env_package-1.0-0.conda", "private-package-1.0-0.conda")
	sized := lockFor(t, condaEnv, recs)
	if !strings.Contains(string(sized), lock.SizesPrefix+"linux-64: activate_deactivate_package=4930,") {
		t.Fatalf("the lock records no sizes:\n%s", sized)
	}
	var bare []*repodata.Record
	for _, r := range recs {
		c := *r
		c.Size = 0
		bare = append(bare, &c)
	}
	unsized := lockFor(t, condaEnv, bare)
	build := func(lockData []byte, budget string) *pb.Definition {
		opts := map[string]string{}
		if budget != "" {
			opts["build-arg:"+buildplan.ArgPackageLayers] = budget
		}
		g := condaGateway(t, condaEnv, lockData, opts)
		if _, err := Build(context.Background(), g); err != nil {
			t.Fatal(err)
		}
		return g.solves[0]
	}
	a, b := build(sized, ""), build(unsized, "")
	if !slices.EqualFunc(a.Def, b.Def, func(x, y []byte) bool { return string(x) == string(y) }) {
		t.Error("within the budget, the lock's sizes change the LLB")
	}
	own := linkOps(t, a)["post_link_run_in_env_package"]
	if got := linkOps(t, build(sized, "4"))["post_link_run_in_env_package"]; own == "" || got != own {
		t.Error("beyond the budget, the largest package is not linked alone by the step it has within it")
	}
	if _, alone := linkOps(t, build(unsized, "4"))["post_link_run_in_env_package"]; alone {
		t.Error("without sizes, the largest package has a layer of its own: the name hash should group it")
	}
}
