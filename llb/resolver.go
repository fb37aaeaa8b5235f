package llb

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/distribution/reference"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	digest "github.com/opencontainers/go-digest"
)

// pinnedResolver answers the Dockerfile conversion's config lookup for the
// already resolved base image, so converting the custom steps asks no
// registry; other refs go to next.
type pinnedResolver struct {
	ref    string
	config dockerspec.DockerOCIImage
	next   sourceresolver.ImageMetaResolver
}

func (r *pinnedResolver) ResolveImageConfig(ctx context.Context, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	if sameRef(ref, r.ref) {
		dt, err := json.Marshal(r.config)
		if err != nil {
			return "", "", nil, err
		}
		var dgst digest.Digest
		if named, err := reference.ParseNormalizedNamed(r.ref); err == nil {
			if d, ok := named.(reference.Digested); ok {
				dgst = d.Digest()
			}
		}
		return r.ref, dgst, dt, nil
	}
	if r.next == nil {
		return "", "", nil, fmt.Errorf("image %s was not resolved", ref)
	}
	return r.next.ResolveImageConfig(ctx, ref, opt)
}

// sameRef compares two image references after normalization
// (busybox == docker.io/library/busybox:latest).
func sameRef(a, b string) bool {
	na, errA := reference.ParseNormalizedNamed(a)
	nb, errB := reference.ParseNormalizedNamed(b)
	if errA != nil || errB != nil {
		return a == b
	}
	return reference.TagNameOnly(na).String() == reference.TagNameOnly(nb).String()
}
