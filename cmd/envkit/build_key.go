package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/session"

	"github.com/envkit/envkit/frontend"
	"github.com/envkit/envkit/internal/hash"
	"github.com/envkit/envkit/internal/spec"
)

// keyLookup is the image key of a build and, when REPO already holds it,
// the digest there.
type keyLookup struct {
	definitionHash string
	key            string // "" when the build has no key (why says why)
	why            string
	existing       string
}

// imageKey computes the key as the frontend does (frontend.ImageKey over
// the definition hash, the lock's sha256 and the base's digest) and looks
// the tag up in repo, through the daemon so its registry mirrors and
// credentials apply.
func imageKey(ctx context.Context, c *client.Client, auth session.Attachable, repo, file, contextDir string, buildArgs map[string]string, targets []string) (keyLookup, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return keyLookup{}, err
	}
	def, err := spec.Parse(filepath.Base(file), data, os.DirFS(contextDir))
	if err != nil {
		return keyLookup{}, err
	}
	if img := frontend.BaseImage(def, buildArgs); img != "" {
		def.SetDefaultBase(img)
	}
	var k keyLookup
	if k.definitionHash, err = hash.Of(def); err != nil {
		return keyLookup{}, err
	}
	lockHash := ""
	if def.Conda != nil && !def.Python.UserManaged && len(def.Conda.Dependencies) > 0 {
		b, err := fs.ReadFile(os.DirFS(contextDir), frontend.LockFile)
		if errors.Is(err, fs.ErrNotExist) {
			k.why = "no " + frontend.LockFile + " in the context: run envkit lock " + filepath.Base(file)
			return k, nil
		}
		if err != nil {
			return keyLookup{}, err
		}
		sum := sha256.Sum256(b)
		lockHash = "sha256:" + hex.EncodeToString(sum[:])
	}
	base := frontend.BaseImage(def, buildArgs)
	if base == "" {
		k.why = "a Dockerfile base has no single digest"
		return k, nil
	}
	platform := platforms.DefaultSpec()
	if len(targets) > 0 {
		if platform, err = platforms.Parse(targets[0]); err != nil {
			return keyLookup{}, usagef("--platform %s: %v", targets[0], err)
		}
	}
	var baseDigest, existing string
	_, err = c.Build(ctx, client.SolveOpt{Session: []session.Attachable{auth}}, "envkit", func(ctx context.Context, gw gwclient.Client) (*gwclient.Result, error) {
		_, dgst, _, err := gw.ResolveImageConfig(ctx, base, sourceresolver.Opt{
			ImageOpt: &sourceresolver.ResolveImageOpt{Platform: &platform},
		})
		if err != nil {
			return nil, fmt.Errorf("base image %s: %w", base, err)
		}
		baseDigest = dgst.String()
		k.key = frontend.ImageKey(k.definitionHash, lockHash, baseDigest)
		_, dgst, _, err = gw.ResolveImageConfig(ctx, repo+":"+k.key, sourceresolver.Opt{
			ImageOpt: &sourceresolver.ResolveImageOpt{Platform: &platform, ResolveMode: llb.ResolveModeForcePull.String()},
		})
		if err == nil {
			existing = dgst.String()
		}
		return gwclient.NewResult(), nil
	}, nil)
	if err != nil {
		return keyLookup{}, err
	}
	k.existing = existing
	return k, nil
}
