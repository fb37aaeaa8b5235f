package frontend

import (
	"context"
	"strings"
	"testing"

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
			opts["build-arg:"+ArgPackageLayers] = tc.arg
		}
		g := condaGateway(t, condaEnv, lockData, opts)
		if _, err := Build(context.Background(), g); err != nil {
			t.Fatalf("%s=%q: %v", ArgPackageLayers, tc.arg, err)
		}
		// Hash buckets may stay empty: at most the budget, at least one.
		if got := linkSteps(t, g.solves[0]); got > tc.want || got < 1 || (tc.arg == "" && got != tc.want) {
			t.Errorf("%s=%q: %d link steps, want at most %d", ArgPackageLayers, tc.arg, got, tc.want)
		}
	}
	for _, bad := range []string{"0", "-3", "five", "2.5"} {
		g := condaGateway(t, condaEnv, lockData, map[string]string{"build-arg:" + ArgPackageLayers: bad})
		_, err := Build(context.Background(), g)
		if err == nil || !strings.Contains(err.Error(), ArgPackageLayers+"=") {
			t.Errorf("%s=%q: error %v, want one naming the argument", ArgPackageLayers, bad, err)
		}
	}
}

// FuzzPackageLayers: any value either fails with the argument named or
// gives a budget of at least 1 (0, the default, only when unset).
func FuzzPackageLayers(f *testing.F) {
	for _, s := range []string{"", "1", "100", "0", "-1", "five", "+7", "007", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		n, err := packageLayers(map[string]string{ArgPackageLayers: v})
		switch {
		case err != nil:
			if !strings.Contains(err.Error(), ArgPackageLayers) {
				t.Errorf("%q: error %v does not name the argument", v, err)
			}
		case v == "":
			if n != 0 {
				t.Errorf("unset: %d, want 0", n)
			}
		case n < 1:
			t.Errorf("%q: budget %d accepted", v, n)
		}
	})
}
