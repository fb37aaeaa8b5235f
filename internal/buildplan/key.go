package buildplan

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"slices"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/envkit/envkit/internal/platform"
	"github.com/envkit/envkit/internal/spec"
)

// ImageKey is the registry tag under which an environment's image is kept
// (ENVKIT_IMAGE_CACHE=registry/repo, envkit build --push): what decides the
// image beyond the definition — the pins of the lock (Locked.Hash), the
// base image's digest and a package layer budget other than the default
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

// Targets are the platforms a build of def makes: those requested
// (--platform), else the definition's platforms, else the builder's own.
// Each must be one envkit builds (internal/platform).
func Targets(def *spec.Definition, requested []ocispecs.Platform, builder ocispecs.Platform) ([]ocispecs.Platform, error) {
	for _, p := range requested {
		if _, err := platform.FromOCI(p); err != nil {
			return nil, err
		}
	}
	if len(requested) > 0 {
		return requested, nil
	}
	ps, err := DefinitionPlatforms(def)
	if err != nil || len(ps) > 0 {
		return ps, err
	}
	if _, err := platform.FromOCI(builder); err != nil {
		return nil, err
	}
	return []ocispecs.Platform{builder}, nil
}

// DefinitionPlatforms are the definition's platforms: key, as BuildKit
// takes them.
func DefinitionPlatforms(def *spec.Definition) ([]ocispecs.Platform, error) {
	var ps []ocispecs.Platform
	for _, s := range def.Platforms {
		p, err := platform.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", def.Source.Path, err)
		}
		ps = append(ps, p.OCI())
	}
	return ps, nil
}

// Key is a build's image key and what it is made of.
type Key struct {
	DefinitionHash string
	LockHash       string
	BaseDigest     string
	// Tag is ImageKey of them; "" when the build has no key, and NoKey
	// says why.
	Tag   string
	NoKey string
	// Platform is the first target platform, the one the base and the
	// tag are resolved for.
	Platform ocispecs.Platform
}

// ResolveDigest gives the digest of an image for a platform: the
// registry's answer, through whatever mirrors and credentials the caller
// uses (the gateway, or the CLI's registry client).
type ResolveDigest func(ctx context.Context, image string, p ocispecs.Platform) (string, error)

// KeyOf computes the image key of a build of def with opts for targets,
// from the lock in fsys: what the frontend looks up with
// ENVKIT_IMAGE_CACHE, envkit build --push and envkit inspect show. When
// the base cannot be resolved, the error comes with the key's other parts.
func KeyOf(ctx context.Context, fsys fs.FS, def *spec.Definition, opts Options, targets []ocispecs.Platform, resolve ResolveDigest) (Key, error) {
	if len(targets) == 0 {
		return Key{}, errors.New("no target platform")
	}
	k := Key{Platform: targets[0]}
	var err error
	if k.DefinitionHash, err = DefinitionHash(def, opts.BaseImage); err != nil {
		return Key{}, err
	}
	locked, err := ReadLock(fsys, def, opts, targets)
	if errors.Is(err, ErrNoLock) {
		k.NoKey = "no " + LockFile + " beside the definition, so the key depends on a solve: run envkit lock " + def.Source.Path
		return k, nil
	}
	if err != nil {
		return Key{}, err
	}
	if def.HasCondaEnvironment() {
		k.LockHash = locked.Hash
	}
	base := BaseImage(def, opts.BaseImage)
	if base == "" {
		k.NoKey = "a Dockerfile base has no single digest"
		return k, nil
	}
	if k.BaseDigest, err = resolve(ctx, base, k.Platform); err != nil {
		return k, err // the hashes without the tag, for envkit inspect
	}
	k.Tag = ImageKey(k.DefinitionHash, k.LockHash, k.BaseDigest, opts.PackageLayers)
	return k, nil
}

// DefaultSubdir is the conda subdir locked for a definition that names no
// platforms.
const DefaultSubdir = "linux-64"

// Subdirs are the conda subdirs a lock of def covers: those of its
// platforms, each once, in their order; DefaultSubdir when it names none.
func Subdirs(def *spec.Definition) ([]string, error) {
	ps, err := DefinitionPlatforms(def)
	if err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return []string{DefaultSubdir}, nil
	}
	var out []string
	for _, p := range ps {
		subdir, err := platform.Subdir(p)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, subdir) {
			out = append(out, subdir)
		}
	}
	return out, nil
}
