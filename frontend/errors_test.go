package frontend

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/util/grpcerrors"
	digest "github.com/opencontainers/go-digest"
)

const mismatch = "digest mismatch sha256:0000000000000000000000000000000000000000000000000000000000000000: sha256:1111111111111111111111111111111111111111111111111111111111111111"

func TestFailedStepIsNamed(t *testing.T) {
	g := condaGateway(t, condaEnv, lockFor(t, condaEnv, testRecipes(t, lockedRecipes...)), nil)
	g.fail = map[string]error{"[conda 2/4] download dependent 1.0": errors.New(mismatch)}
	_, err := Build(context.Background(), g)
	want := "[conda 2/4] download dependent 1.0: " + mismatch
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
	// What BuildKit's clients read beside the message survives the
	// gateway's gRPC status: the failed vertex.
	back := grpcerrors.FromGRPC(grpcerrors.ToGRPC(context.Background(), err))
	var ve *errdefs.VertexError
	if !strings.HasPrefix(back.Error(), "[conda 2/4] download dependent 1.0: digest mismatch") || !errors.As(back, &ve) {
		t.Errorf("over gRPC: %v (vertex kept: %v)", back, ve != nil)
	}
}

func TestNameFailedStepKeepsOtherErrors(t *testing.T) {
	def, err := llb.Scratch().File(llb.Mkdir("/a", 0o755), llb.WithCustomName("[step] make a")).Marshal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var named digest.Digest
	for d, md := range def.Metadata {
		if md.Description["llb.customname"] != "" {
			named = d
		}
	}
	plain := errors.New("boom")
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"no vertex", plain, "boom"},
		{"a vertex of another solve", errdefs.WrapVertex(plain, digest.FromString("other")), "boom"},
		{"already named", errdefs.WrapVertex(errors.New("[step] make a: boom"), named), "[step] make a: boom"},
		{"named", errdefs.WrapVertex(plain, named), "[step] make a: boom"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := nameFailedStep(tc.err, def).Error(); got != tc.want {
				t.Errorf("%q, want %q", got, tc.want)
			}
		})
	}
	if nameFailedStep(nil, def) != nil {
		t.Error("nil became an error")
	}
}
