package frontend

import (
	"context"
	"errors"
	"fmt"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// LookupImage looks ref (repo:key) up in its registry through c, so the
// daemon's mirrors and credentials apply, always asking the registry. A
// missing tag or repository is found=false, the image not built yet; any
// other failure (credentials refused, registry out of reach) is an error:
// a lookup the user asked for must not turn silently into a rebuild.
func LookupImage(ctx context.Context, c gwclient.Client, ref string, p ocispecs.Platform) (resolved string, dgst digest.Digest, config []byte, found bool, err error) {
	resolved, dgst, config, err = c.ResolveImageConfig(ctx, ref, sourceresolver.Opt{
		LogName:  "[envkit] look up " + ref,
		ImageOpt: &sourceresolver.ResolveImageOpt{Platform: &p, ResolveMode: llb.ResolveModeForcePull.String()},
	})
	switch {
	case err == nil:
		return resolved, dgst, config, true, nil
	case imageMissing(err):
		return "", "", nil, false, nil
	}
	return "", "", nil, false, fmt.Errorf("looking up the image key %s: %w (check the registry's credentials, docker login, and that it is reachable; without ENVKIT_IMAGE_CACHE or --push the build makes no lookup)", ref, err)
}

// imageMissing says whether a resolve failed because the registry has no
// such image: containerd's resolvers answer errdefs.ErrNotFound ("…: not
// found"), which reaches a frontend over gRPC as codes.NotFound or as its
// message.
func imageMissing(err error) bool {
	if cerrdefs.IsNotFound(err) || status.Code(errors.Unwrap(err)) == codes.NotFound || status.Code(err) == codes.NotFound {
		return true
	}
	return strings.HasSuffix(strings.TrimSpace(err.Error()), "not found")
}
