package frontend

import (
	"errors"
	"strings"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/util/grpcerrors"
	digest "github.com/opencontainers/go-digest"
	"google.golang.org/grpc/status"
)

// stepError names the step a solve failed at. BuildKit's message for a
// failed vertex is bare ("digest mismatch sha256:…" for a download whose
// checksum does not match) and its progress shows the name only beside
// the vertex; the build's last line must say which package it was.
type stepError struct {
	step string
	err  error
}

func (e *stepError) Error() string { return e.step + ": " + e.err.Error() }

// Unwrap keeps the typed details (vertex, source, stack) that BuildKit's
// clients read; grpcerrors.ToGRPC adds them back from the chain.
func (e *stepError) Unwrap() error { return e.err }

// GRPCStatus is the status the gateway returns for e. Without it,
// grpcerrors.ToGRPC finds the solver's own status inside (the solve error
// came over gRPC) and sends it as it is, without the step's name.
func (e *stepError) GRPCStatus() *status.Status {
	return status.New(grpcerrors.Code(e.err), e.Error())
}

// nameFailedStep prefixes err with the name of the vertex of def it
// carries (errdefs.VertexError: the solver's digest of the failed op), as
// BuildKit's Dockerfile frontend attaches the failed instruction's source
// location. An error of no vertex of def, or already naming it, is kept.
func nameFailedStep(err error, def *llb.Definition) error {
	var ve *errdefs.VertexError
	if err == nil || !errors.As(err, &ve) || ve.Vertex == nil {
		return err
	}
	step := def.Metadata[digest.Digest(ve.Digest)].Description["llb.customname"]
	if step == "" || strings.Contains(err.Error(), step) {
		return err
	}
	return &stepError{step: step, err: err}
}
