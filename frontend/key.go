package frontend

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"

	"github.com/containerd/platforms"
	"github.com/distribution/reference"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/envkit/envkit/internal/hash"
	"github.com/envkit/envkit/internal/spec"
)

// ImageKey is the registry tag under which an environment's image is kept
// (ENVKIT_IMAGE_CACHE=registry/repo, envkit build --push): what decides the
// image beyond the definition — the pins of the lock (LockHash), the base
// image's digest and a package layer budget other than the default
// (ENVKIT_PACKAGE_LAYERS, which changes the layers, not the files; 0 for
// the default, which leaves the key as it was before the budget could be
// set) — joined with the definition hash. docs/frontend.md documents the
// scheme; the leading version changes when it does.
func ImageKey(definitionHash, lockHash, baseDigest string, packageLayers int) string {
	text := fmt.Sprintf("envkit-image-key/1\ndefinition %s\nlock %s\nbase %s\n", definitionHash, lockHash, baseDigest)
	if packageLayers > 0 {
		text += fmt.Sprintf("package-layers %d\n", packageLayers)
	}
	sum := sha256.Sum256([]byte(text))
	return "envkit-" + hex.EncodeToString(sum[:16])
}

// DefinitionHash is the definition part of the image key: the hash of def
// once the base the build resolves under buildArgs is its default (a conda
// or requirements file names none, and is hashed with the base it builds
// on, as envkit hash does). It sets that base on def.
func DefinitionHash(def *spec.Definition, buildArgs map[string]string) (string, error) {
	if img := BaseImage(def, buildArgs); img != "" {
		def.SetDefaultBase(img)
	}
	return hash.Of(def)
}

// LockHash is the lock part of the image key: pinsHash of what
// conda-lock.yml in fsys pins for the target platforms (conda packages,
// pip wheels, Spark jars), once the lock is checked to be current for def.
// It is "" for a definition without conda packages and ErrNoLock when fsys
// has no lock (the frontend then solves, and keys the image by that solve).
// The lock's comments, order and sources do not change it.
func LockHash(fsys fs.FS, def *spec.Definition, buildArgs map[string]string, targets []ocispecs.Platform) (string, error) {
	if !hasCondaPackages(def) {
		return "", nil
	}
	l, err := readLock(fsys, def.Source.Path, def, lockInputs(def, buildArgs), targets)
	if err != nil {
		return "", err
	}
	return l.hash, nil
}

// Targets are the platforms a build of def makes: those requested
// (--platform), else the definition's platforms, else the builder's own.
// The image key's base digest is resolved for the first.
func Targets(def *spec.Definition, requested []ocispecs.Platform, builder ocispecs.Platform) ([]ocispecs.Platform, error) {
	if len(requested) > 0 {
		return requested, nil
	}
	ps, err := definitionPlatforms(def)
	if err != nil || len(ps) > 0 {
		return ps, err
	}
	return []ocispecs.Platform{builder}, nil
}

func definitionPlatforms(def *spec.Definition) ([]ocispecs.Platform, error) {
	var ps []ocispecs.Platform
	for _, s := range def.Platforms {
		p, err := parsePlatform(s)
		if err != nil {
			return nil, fmt.Errorf("%s: platform %q: %w", def.Source.Path, s, err)
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// builderPlatform is the platform of the builder's first worker, as
// BuildKit's dockerui client takes it.
func builderPlatform(opts gwclient.BuildOpts) ocispecs.Platform {
	if len(opts.Workers) > 0 && len(opts.Workers[0].Platforms) > 0 {
		return opts.Workers[0].Platforms[0]
	}
	return platforms.Normalize(platforms.DefaultSpec())
}

// Key is a build's image key and what it is made of.
type Key struct {
	DefinitionHash string
	LockHash       string
	BaseDigest     string
	// Tag is ImageKey of the three; "" when the build has no key, and
	// NoKey says why.
	Tag   string
	NoKey string
	// Platform is the first target platform, the one the base and the
	// tag are resolved for.
	Platform ocispecs.Platform
}

// KeyOf computes, through c, the image key Build looks up for def with
// ENVKIT_IMAGE_CACHE: the same definition hash, lock part (LockHash over
// Targets) and base digest, from the lock in fsys. It needs none of the
// definition's file:// channel directories. envkit build --push looks its
// tag up before building. Build takes a base from a named context
// context:<base> when one is given; KeyOf resolves it from its registry.
func KeyOf(ctx context.Context, c gwclient.Client, fsys fs.FS, def *spec.Definition, buildArgs map[string]string, requested []ocispecs.Platform) (Key, error) {
	var k Key
	var err error
	layers, err := packageLayers(buildArgs)
	if err != nil {
		return Key{}, err
	}
	if k.DefinitionHash, err = DefinitionHash(def, buildArgs); err != nil {
		return Key{}, err
	}
	targets, err := Targets(def, requested, builderPlatform(c.BuildOpts()))
	if err != nil {
		return Key{}, err
	}
	k.Platform = targets[0]
	k.LockHash, err = LockHash(fsys, def, buildArgs, targets)
	if errors.Is(err, ErrNoLock) {
		k.NoKey = "no " + LockFile + " in the context, so the key depends on the frontend's solve: run envkit lock " + def.Source.Path
		return k, nil
	}
	if err != nil {
		return Key{}, err
	}
	base := BaseImage(def, buildArgs)
	if base == "" {
		k.NoKey = "a Dockerfile base has no single digest"
		return k, nil
	}
	_, dgst, _, err := resolveImageConfig(ctx, c, base, k.Platform, "")
	if err != nil {
		return Key{}, err
	}
	k.BaseDigest = dgst.String()
	k.Tag = ImageKey(k.DefinitionHash, k.LockHash, k.BaseDigest, layers)
	return k, nil
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
