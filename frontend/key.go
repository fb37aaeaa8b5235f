package frontend

import (
	"context"
	"fmt"
	"io/fs"

	"github.com/containerd/platforms"
	"github.com/distribution/reference"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/envkit/envkit/internal/buildplan"
	"github.com/envkit/envkit/internal/spec"
)

// builderPlatform is the platform of the builder's first worker, as
// BuildKit's dockerui client takes it.
func builderPlatform(opts gwclient.BuildOpts) ocispecs.Platform {
	if len(opts.Workers) > 0 && len(opts.Workers[0].Platforms) > 0 {
		return opts.Workers[0].Platforms[0]
	}
	return platforms.Normalize(platforms.DefaultSpec())
}

// DigestResolver resolves image digests through c, so the daemon's
// registry mirrors and credentials apply: the base digest of the image
// key (buildplan.KeyOf) as the build sees it.
func DigestResolver(c gwclient.Client) buildplan.ResolveDigest {
	return func(ctx context.Context, image string, p ocispecs.Platform) (string, error) {
		_, dgst, _, err := resolveImageConfig(ctx, c, image, p, "")
		return dgst.String(), err
	}
}

// KeyOf is buildplan.KeyOf for a build through c: its builder's platform
// when neither the request nor the definition names one, and base digests
// from c.
func KeyOf(ctx context.Context, c gwclient.Client, fsys fs.FS, def *spec.Definition, opts buildplan.Options, requested []ocispecs.Platform) (buildplan.Key, error) {
	targets, err := buildplan.Targets(def, requested, builderPlatform(c.BuildOpts()))
	if err != nil {
		return buildplan.Key{}, err
	}
	return buildplan.KeyOf(ctx, fsys, def, opts, targets, DigestResolver(c))
}

// resolveImageConfig resolves an image by its normalized name (busybox is
// docker.io/library/busybox:latest), as the build's base and the key's.
func resolveImageConfig(ctx context.Context, c gwclient.Client, name string, p ocispecs.Platform, mode string) (string, digest.Digest, []byte, error) {
	named, err := reference.ParseNormalizedNamed(name)
	if err != nil {
		return "", "", nil, fmt.Errorf("base image %q: %w", name, err)
	}
	ref, dgst, dt, err := c.ResolveImageConfig(ctx, reference.TagNameOnly(named).String(), sourceresolver.Opt{
		LogName:  "[internal] load metadata for " + name,
		ImageOpt: &sourceresolver.ResolveImageOpt{Platform: &p, ResolveMode: mode},
	})
	if err != nil {
		return "", "", nil, fmt.Errorf("base image %s: %w", name, err)
	}
	return ref, dgst, dt, nil
}
