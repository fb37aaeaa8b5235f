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

// keepMessage makes the gateway send err's whole message. An error that
// came from BuildKit over gRPC carries its status, and grpcerrors.ToGRPC
// sends the first status it finds in the chain as it is: whatever the
// frontend wrapped around it (the failed step's name, "channel
// conda-forge: …", "base image …: …") would be lost on the way to the
// client.
func keepMessage(err error) error {
	var se interface{ GRPCStatus() *status.Status }
	if err == nil || !errors.As(err, &se) || se.GRPCStatus().Message() == err.Error() {
		return err
	}
	return &messageError{err}
}

// messageError is err with a gRPC status of its whole message.
type messageError struct{ err error }

func (e *messageError) Error() string { return e.err.Error() }

// Unwrap keeps the typed details, which grpcerrors.ToGRPC adds back.
func (e *messageError) Unwrap() error { return e.err }

func (e *messageError) GRPCStatus() *status.Status {
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
