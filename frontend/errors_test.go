package frontend

import (
	"context"
	"errors"
	"fmt"
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
	if err == nil || !strings.HasPrefix(err.Error(), want) {
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

// A message the frontend wraps around an error from BuildKit reaches the
// client whole, with the error's code and details.
func TestKeepMessageOverGRPC(t *testing.T) {
	ctx := context.Background()
	fromBuildKit := grpcerrors.FromGRPC(grpcerrors.ToGRPC(ctx, errdefs.WrapVertex(errors.New("dial tcp: no such host"), digest.FromString("fetch"))))
	wrapped := fmt.Errorf("channel conda-forge: %w", fromBuildKit)
	back := grpcerrors.FromGRPC(grpcerrors.ToGRPC(ctx, keepMessage(wrapped)))
	var ve *errdefs.VertexError
	if back.Error() != "channel conda-forge: dial tcp: no such host" || !errors.As(back, &ve) {
		t.Errorf("over gRPC: %q (vertex kept: %v)", back, ve != nil)
	}
	for _, err := range []error{nil, errors.New("plain"), fromBuildKit} {
		if keepMessage(err) != err {
			t.Errorf("keepMessage(%v) changed an error whose status already says it all", err)
		}
	}
}
