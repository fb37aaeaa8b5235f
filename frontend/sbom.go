package frontend

import (
	"context"
	"fmt"
	"io/fs"

	"github.com/in-toto/in-toto-golang/in_toto"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerui"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	gwpb "github.com/moby/buildkit/frontend/gateway/pb"
	"github.com/moby/buildkit/solver/result"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/envkit/envkit/internal/buildplan"
	"github.com/envkit/envkit/internal/conda/lock"
	"github.com/envkit/envkit/internal/platform"
	"github.com/envkit/envkit/internal/sbom"
	"github.com/envkit/envkit/internal/spec"
)

// sbomFile is the SPDX document's path in an attestation's ref.
const sbomFile = "/envkit.spdx.json"

// attachSBOMs attaches to each platform's result, when the build asks for
// an SBOM (docker buildx build --sbom=true, buildctl --opt attest:sbom=),
// envkit's own SPDX document of what it built there, from the lock
// (internal/sbom): every conda package, wheel and jar exactly, the edges
// between them, and the base image by digest. Licences are those the
// records carry (a solve in the frontend has the channel's; the lock has
// none: envkit sbom reads them from the channels). BuildKit then runs no scanner image (it skips
// results that carry an SPDX attestation). baseDigest gives the base's
// digest per platform, "" when unknown.
func (b *build) attachSBOMs(ctx context.Context, rb *dockerui.ResultBuilder, def *spec.Definition, locked *buildplan.Locked, baseDigest func(context.Context, ocispecs.Platform) (string, error)) error {
	if b.bc.SBOM == nil {
		return nil
	}
	caps := b.c.BuildOpts().Caps
	if err := caps.Supports(gwpb.CapAttestations); err != nil {
		return fmt.Errorf("this BuildKit cannot attach attestations (capability %q, BuildKit v0.11.0 and later), so it cannot carry the SBOM asked for: build without --sbom, or on BuildKit v0.11.0 or later (envkit sbom FILE writes the same document)", gwpb.CapAttestations)
	}
	// The lock's pip entries name their dependencies, which
	// buildplan.Locked does not keep: the edges between wheels.
	var lk *lock.Lock
	if data, err := fs.ReadFile(b.fsys, buildplan.LockFile); err == nil {
		if lk, err = lock.Read(buildplan.LockFile, data); err != nil {
			return err
		}
	}
	return rb.EachPlatform(ctx, func(ctx context.Context, id string, p ocispecs.Platform) error {
		subdir, err := platform.Subdir(p)
		if err != nil {
			return err
		}
		env, err := sbom.ForBuild(def, b.opts, locked, subdir, Version)
		if err != nil {
			return err
		}
		if lk != nil {
			env.WheelDepends = sbom.PipDepends(lk, subdir)
		}
		if env.BaseDigest == "" && env.BaseImage != "" {
			if env.BaseDigest, err = baseDigest(ctx, p); err != nil {
				return err
			}
		}
		bom, err := sbom.New(env)
		if err != nil {
			return err
		}
		doc, err := bom.SPDX()
		if err != nil {
			return err
		}
		st := llb.Scratch().File(llb.Mkfile(sbomFile, 0o644, doc), llb.WithCustomName(fmt.Sprintf("[envkit] SBOM (SPDX) of %s", platform.Format(p))))
		ref, err := b.solve(ctx, st, p, false)
		if err != nil {
			return err
		}
		rb.AddAttestation(id, result.Attestation[gwclient.Reference]{
			Kind:   gwpb.AttestationKind_InToto,
			Ref:    ref,
			Path:   sbomFile,
			InToto: result.InTotoAttestation{PredicateType: in_toto.PredicateSPDX},
		})
		return nil
	})
}
