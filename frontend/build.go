// Package frontend is envkit's BuildKit frontend: gateway glue on
// BuildKit's dockerui client. It reads the definition and the files it
// references from the build's inputs, resolves what the pure conversion
// (package llb) needs — base image digest and config, the link binary, the
// locked packages — and solves the result per target platform. It holds no
// conversion logic.
package frontend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"sync"
	"time"

	"github.com/distribution/reference"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerui"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/frontend/subrequests"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/envkit/envkit/internal/buildplan"
	"github.com/envkit/envkit/internal/platform"
	"github.com/envkit/envkit/internal/spec"
	envllb "github.com/envkit/envkit/llb"
)

// Version is envkit's version, recorded in image labels; the command sets
// it from its link-time version.
var Version = "dev"

// Frontend options envkit reads (build arguments are buildplan's).
const (
	// OptLinkBinary = "local" takes the link binary from the local inputs
	// LocalLinkBinaryFor names (envkit build, in-process) instead of the
	// frontend's own image (the "source" option BuildKit passes).
	OptLinkBinary   = "envkit-bin"
	LocalLinkBinary = "envkit-bin"
	optSource       = "source"
)

// LocalLinkBinaryFor is the local input holding the link binary for
// platform p: one per GOOS/GOARCH, as Go builds a binary.
func LocalLinkBinaryFor(p ocispecs.Platform) string {
	return LocalLinkBinary + "-" + p.OS + "-" + p.Architecture
}

// Build is the BuildFunc: `envkit frontend` runs it through the gateway,
// `envkit build` in-process.
func Build(ctx context.Context, c gwclient.Client) (*gwclient.Result, error) {
	bc, err := dockerui.NewClient(c)
	if err != nil {
		return nil, err
	}
	src, err := bc.ReadEntrypoint(ctx, "envkit")
	if err != nil {
		return nil, err
	}
	b := &build{c: c, bc: bc, source: src.SourceMap, filename: src.Filename, data: src.Data, fsys: newContextFS(ctx, c, bc)}
	if bc.BuildOpts().Opts["requestid"] == subrequests.RequestSubrequestsDescribe {
		return describe()
	}
	if res, ok, err := bc.HandleSubrequest(ctx, dockerui.RequestHandler{Lint: b.lint, Outline: b.outline}); ok || err != nil {
		return res, keepMessage(err)
	}
	res, err := b.run(ctx)
	return res, keepMessage(err)
}

// build is one request's state.
type build struct {
	c        gwclient.Client
	bc       *dockerui.Client
	source   *llb.SourceMap // the definition, for lint locations
	filename string
	data     []byte
	fsys     *contextFS
	// opts are the build arguments, parsed once run starts.
	opts buildplan.Options

	// bases memoizes resolveBase: the image key and the platform builds
	// ask for the same base.
	basesMu sync.Mutex
	bases   map[string]*resolvedBase

	// The definition's file:// channels (channels.go), and their
	// repodata transferred from the client, by channel location.
	channelsOnce sync.Once
	channels     []LocalChannel
	channelsErr  error
	repodataMu   sync.Mutex
	repodataRefs map[string]gwclient.Reference
}

func (b *build) run(ctx context.Context) (*gwclient.Result, error) {
	def, err := b.parse()
	if err != nil {
		return nil, err
	}
	if err := envllb.Supported(def); err != nil {
		return nil, err
	}
	if err := checkCapabilities(b.c.BuildOpts().LLBCaps, b.c.BuildOpts().Caps); err != nil {
		return nil, err
	}
	if b.opts, err = buildplan.ParseOptions(b.bc.BuildArgs); err != nil {
		return nil, err
	}
	if err := checkAuthCapability(b.c.BuildOpts().LLBCaps, b.opts.Auth); err != nil {
		return nil, err
	}
	epoch := b.opts.Epoch
	defHash, err := buildplan.DefinitionHash(def, b.opts.BaseImage)
	if err != nil {
		return nil, err
	}
	if err := b.targetPlatforms(def); err != nil {
		return nil, err
	}
	locked, err := b.lockedPackages(ctx, def)
	if err != nil {
		return nil, err
	}
	// Only conda packages need the link binary; a definition without them
	// builds through any gateway, even with no source option.
	var linkBin func(ocispecs.Platform) llb.State
	if len(locked.Packages) > 0 {
		if linkBin, err = b.linkBinary(ctx); err != nil {
			return nil, err
		}
	}
	// file:// channel archives come from named contexts, loaded once for
	// all platforms and only when something is built (not on a reuse).
	var (
		archivesOnce sync.Once
		archives     func(string) (llb.State, string, bool)
		archivesErr  error
	)
	localArchives := func(ctx context.Context) (func(string) (llb.State, string, bool), error) {
		archivesOnce.Do(func() { archives, archivesErr = b.localArchives(ctx, def, locked) })
		return archives, archivesErr
	}
	baseName := buildplan.BaseImage(def, b.opts.BaseImage)
	cacheRepo := b.opts.ImageCache

	// The image key (KeyOf computes the same for envkit build) needs the
	// base's digest, the same for every platform (an index digest), so it
	// is resolved once, for the first target, before the fan-out.
	var key string
	if cacheRepo != "" && baseName != "" {
		base, err := b.resolveBase(ctx, baseName, b.targets()[0])
		if err != nil {
			return nil, err
		}
		if base.Digest != "" {
			key = buildplan.ImageKey(defHash, locked.Hash, base.Digest.String(), b.opts.PackageLayers)
		}
	}

	rb, err := b.bc.Build(ctx, func(ctx context.Context, p *ocispecs.Platform, _ int) (*dockerui.BuildResult, error) {
		platform := b.platform(p)
		if key != "" {
			if res, err := b.fromImageCache(ctx, cacheRepo+":"+key, platform, epoch); res != nil || err != nil {
				return res, err
			}
		}
		localArchive, err := localArchives(ctx)
		if err != nil {
			return nil, err
		}
		pkgs, err := locked.ForPlatform(platform)
		if err != nil {
			return nil, err
		}
		env, err := envllb.FromDefinition(def, pkgs)
		if err != nil {
			return nil, err
		}
		env.DefinitionHash, env.LockHash = defHash, locked.PlatformHash(platform)
		opts := envllb.Options{
			Platform:      platform,
			BuildPlatform: b.platform(nil),
			MultiPlatform: b.bc.MultiPlatformRequested,
			MetaResolver:  b.c,
			BuildArgs:     b.bc.BuildArgs,
			Labels:        b.bc.Labels,
			LinkBinary:    linkBin,
			LocalArchive:  localArchive,
			Context: func(p string) (llb.State, error) {
				st, err := b.bc.MainContext(ctx, llb.FollowPaths([]string{p}))
				if err != nil {
					return llb.State{}, err
				}
				return *st, nil
			},
			Auth:          b.opts.Auth,
			PackageLayers: b.opts.PackageLayers,
			Epoch:         epoch,
			Version:       Version,
		}
		if err := b.dockerfileContext(ctx, def, &opts); err != nil {
			return nil, err
		}
		if baseName != "" {
			base, err := b.resolveBase(ctx, baseName, platform)
			if err != nil {
				return nil, err
			}
			env.BaseImage = baseName
			opts.Base = base.ResolvedImage
		}
		res, err := envllb.Build(ctx, env, opts)
		if err != nil {
			return nil, err
		}
		ref, err := b.solve(ctx, res.State, platform, true)
		if err != nil {
			return nil, err
		}
		return &dockerui.BuildResult{Reference: ref, Image: &res.Image, BaseImage: res.BaseImage, Epoch: &epoch}, nil
	})
	if err != nil {
		return nil, err
	}
	if err := b.attachSBOMs(ctx, rb, def, locked, func(ctx context.Context, p ocispecs.Platform) (string, error) {
		base, err := b.resolveBase(ctx, baseName, p)
		if err != nil || base.Digest == "" {
			return "", err
		}
		return base.Digest.String(), nil
	}); err != nil {
		return nil, err
	}
	return rb.Finalize()
}

// parse reads the definition; referenced files come from the build
// context, relative to its root. Errors are spec's FILE:LINE:COL list.
func (b *build) parse() (*spec.Definition, error) {
	return spec.ParseWith(path.Base(b.filename), b.data, b.fsys, spec.Options{Git: b.openGit})
}

// targetPlatforms uses the definition's platforms when the build names
// none (Targets).
func (b *build) targetPlatforms(def *spec.Definition) error {
	if len(b.bc.TargetPlatforms) > 0 || len(def.Platforms) == 0 {
		return nil
	}
	ps, err := buildplan.DefinitionPlatforms(def)
	if err != nil {
		return err
	}
	b.bc.TargetPlatforms = ps
	if len(ps) > 1 {
		b.bc.MultiPlatformRequested = true
	}
	return nil
}

// platform is p, or the builder's own platform when nil.
func (b *build) platform(p *ocispecs.Platform) ocispecs.Platform {
	if p != nil {
		return *p
	}
	if len(b.bc.BuildPlatforms) > 0 {
		return b.bc.BuildPlatforms[0]
	}
	return ocispecs.Platform{OS: "linux", Architecture: "amd64"}
}

type resolvedBase struct {
	envllb.ResolvedImage
	Digest digest.Digest
}

// resolveBase pins the base image: a named context `context:<name>`
// replaces it as in the Dockerfile frontend; otherwise its config and
// digest come from the registry.
func (b *build) resolveBase(ctx context.Context, name string, p ocispecs.Platform) (*resolvedBase, error) {
	key := name + " " + platform.Format(p)
	b.basesMu.Lock()
	defer b.basesMu.Unlock()
	if r, ok := b.bases[key]; ok {
		return r, nil
	}
	r, err := b.resolveBaseOnce(ctx, name, p)
	if err != nil {
		return nil, err
	}
	if b.bases == nil {
		b.bases = map[string]*resolvedBase{}
	}
	b.bases[key] = r
	return r, nil
}

func (b *build) resolveBaseOnce(ctx context.Context, name string, p ocispecs.Platform) (*resolvedBase, error) {
	var captured digest.Digest
	nc, err := b.bc.NamedContext(name, dockerui.ContextOpt{Platform: &p, ResolveMode: b.bc.ImageResolveMode.String(), CaptureDigest: &captured})
	if err != nil {
		return nil, err
	}
	if nc != nil {
		st, img, err := nc.Load(ctx)
		if err != nil {
			return nil, err
		}
		var cfg dockerspec.DockerOCIImage
		if img != nil {
			cfg = *img
		}
		return &resolvedBase{ResolvedImage: envllb.ResolvedImage{Ref: name, State: st, Config: cfg}, Digest: captured}, nil
	}
	ref, dgst, dt, err := resolveImageConfig(ctx, b.c, name, p, b.bc.ImageResolveMode.String())
	if err != nil {
		return nil, err
	}
	pinned, err := pin(ref, dgst)
	if err != nil {
		return nil, err
	}
	var cfg dockerspec.DockerOCIImage
	if err := json.Unmarshal(dt, &cfg); err != nil {
		return nil, fmt.Errorf("base image %s: config: %w", name, err)
	}
	return &resolvedBase{ResolvedImage: envllb.ResolvedImage{Ref: pinned, Config: cfg}, Digest: dgst}, nil
}

// pin returns ref@dgst.
func pin(ref string, dgst digest.Digest) (string, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", err
	}
	if dgst == "" {
		return reference.TagNameOnly(named).String(), nil
	}
	canonical, err := reference.WithDigest(reference.TagNameOnly(named), dgst)
	if err != nil {
		return "", err
	}
	return canonical.String(), nil
}

// linkBinary returns where envkit's static binary comes from: the
// frontend's own image, pinned by digest, or (in-process) a local input.
func (b *build) linkBinary(ctx context.Context) (func(ocispecs.Platform) llb.State, error) {
	opts := b.bc.BuildOpts().Opts
	if opts[OptLinkBinary] == "local" {
		return func(p ocispecs.Platform) llb.State {
			name := LocalLinkBinaryFor(p)
			return llb.Local(name,
				llb.SessionID(b.bc.BuildOpts().SessionID),
				llb.SharedKeyHint(name),
				llb.FollowPaths([]string{"envkit"}),
				llb.WithCustomName("[internal] load the envkit binary for "+p.OS+"/"+p.Architecture))
		}, nil
	}
	source := opts[optSource]
	if source == "" {
		return nil, errors.New("cannot tell where the envkit binary is: no \"source\" option (run through a # syntax= line or gateway.v0 with source=<envkit image>) and no envkit-bin=local")
	}
	build := b.platform(nil)
	// The gateway resolves source through named contexts first (e.g.
	// --build-context <ref>=oci-layout://…), so the binary must too.
	nc, err := b.bc.NamedContext(source, dockerui.ContextOpt{Platform: &build})
	if err != nil {
		return nil, err
	}
	if nc != nil {
		st, _, err := nc.Load(ctx)
		if err != nil {
			return nil, err
		}
		return func(ocispecs.Platform) llb.State { return *st }, nil
	}
	ref, dgst, _, err := b.c.ResolveImageConfig(ctx, source, sourceresolver.Opt{
		LogName:  "[internal] load metadata for " + source,
		ImageOpt: &sourceresolver.ResolveImageOpt{Platform: &build},
	})
	if err != nil {
		return nil, fmt.Errorf("envkit frontend image %s: %w", source, err)
	}
	pinned, err := pin(ref, dgst)
	if err != nil {
		return nil, err
	}
	return func(p ocispecs.Platform) llb.State {
		return llb.Image(pinned, llb.Platform(p), llb.WithCustomName("[internal] envkit binary from "+pinned))
	}, nil
}

// dockerfileContext gives a Dockerfile base its build context: a git
// context's source, the build's own (with .dockerignore and named
// contexts) when the definition names the context root, else a copy of
// the named subdirectory.
func (b *build) dockerfileContext(ctx context.Context, def *spec.Definition, opts *envllb.Options) error {
	if def.Base.Dockerfile == "" && len(def.Steps) == 0 {
		return nil
	}
	if g := def.Base.Git; g != nil {
		st, err := b.gitState(*g)
		opts.BuildContext = &st
		return err
	}
	dir := path.Clean(def.Base.Context)
	if def.Base.Dockerfile == "" || dir == "." || dir == "" {
		opts.DockerfileClient = b.bc
		return nil
	}
	main, err := b.bc.MainContext(ctx, llb.FollowPaths([]string{dir}))
	if err != nil {
		return err
	}
	sub := llb.Scratch().File(llb.Copy(*main, dir, "/", &llb.CopyInfo{CopyDirContentsOnly: true, FollowSymlinks: true}),
		llb.WithCustomName("[internal] build context "+dir))
	opts.BuildContext = &sub
	return nil
}

// solve submits one platform's LLB, with the build's cache imports (they
// reach the solver no other way). A build is evaluated here rather than
// lazily by the exporter, so that a failed step comes back to the frontend,
// which names it (nameFailedStep) for every client: envkit build, buildctl
// and buildx print the same line. A reused image stays lazy.
func (b *build) solve(ctx context.Context, st llb.State, p ocispecs.Platform, evaluate bool) (gwclient.Reference, error) {
	def, err := st.Marshal(ctx, llb.Platform(p), llb.WithCaps(b.bc.BuildOpts().LLBCaps))
	if err != nil {
		return nil, err
	}
	res, err := b.c.Solve(ctx, gwclient.SolveRequest{Definition: def.ToPB(), CacheImports: b.bc.CacheImports, Evaluate: evaluate})
	if err != nil {
		return nil, nameFailedStep(explainAuth(err, def, b.opts.Auth), def)
	}
	return res.SingleRef()
}

// fromImageCache returns the image stored under the key, when present,
// with no step run; nil when the registry does not have it, an error when
// the lookup fails otherwise (LookupImage).
func (b *build) fromImageCache(ctx context.Context, ref string, p ocispecs.Platform, epoch time.Time) (*dockerui.BuildResult, error) {
	resolved, dgst, dt, found, err := LookupImage(ctx, b.c, ref, p)
	if err != nil || !found {
		return nil, err // not built yet: build it
	}
	pinned, err := pin(resolved, dgst)
	if err != nil {
		return nil, err
	}
	var img dockerspec.DockerOCIImage
	if err := json.Unmarshal(dt, &img); err != nil {
		return nil, fmt.Errorf("%s: config: %w", ref, err)
	}
	st := llb.Image(pinned, llb.Platform(p), llb.WithCustomName("[envkit] reuse "+pinned))
	r, err := b.solve(ctx, st, p, false)
	if err != nil {
		return nil, err
	}
	// The whole image is the "base": the exporter then keeps its history
	// times as they are, and the config is byte-for-byte the stored one.
	return &dockerui.BuildResult{Reference: r, Image: &img, BaseImage: &img, Epoch: &epoch}, nil
}
