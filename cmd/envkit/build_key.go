package main

import (
	"context"
	"os"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/session"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/envkit/envkit/frontend"
	"github.com/envkit/envkit/internal/buildplan"
	"github.com/envkit/envkit/internal/spec"
)

// keyLookup is the image key of a build and, when REPO already holds it,
// the digest there.
type keyLookup struct {
	buildplan.Key
	existing string
}

// imageKey computes the key the frontend looks up with ENVKIT_IMAGE_CACHE
// (buildplan.KeyOf: definition hash, the lock's pins for the target
// platforms, the base's digest, the layer budget) and looks the tag up in
// repo, through the daemon so its registry mirrors and credentials apply.
func imageKey(ctx context.Context, c *client.Client, auth session.Attachable, repo string, def *spec.Definition, contextDir string, opts buildplan.Options, targets []string) (keyLookup, error) {
	contextFS := os.DirFS(contextDir)
	var requested []ocispecs.Platform
	for _, t := range targets {
		p, err := platforms.Parse(t)
		if err != nil {
			return keyLookup{}, usagef("--platform %s: %v", t, err)
		}
		requested = append(requested, platforms.Normalize(p)) // as dockerui reads --platform
	}
	var k keyLookup
	_, err := c.Build(ctx, client.SolveOpt{Session: []session.Attachable{auth}}, "envkit", func(ctx context.Context, gw gwclient.Client) (*gwclient.Result, error) {
		key, err := frontend.KeyOf(ctx, gw, contextFS, def, opts, requested)
		if k.Key = key; err != nil || k.Tag == "" {
			return gwclient.NewResult(), err
		}
		_, dgst, _, found, err := frontend.LookupImage(ctx, gw, repo+":"+k.Tag, k.Platform)
		if found {
			k.existing = dgst.String()
		}
		return gwclient.NewResult(), err
	}, nil)
	if err != nil {
		return keyLookup{}, err
	}
	return k, nil
}
