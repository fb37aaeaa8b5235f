// Package llb converts an environment (a base, custom Dockerfile steps and a
// locked conda package list) into a BuildKit LLB state and an OCI image
// config. It is pure: no network, no daemon. Everything that needs a
// registry or the gateway (the base image's digest and config, the link
// binary, the build context) is resolved by the caller and passed in Options,
// so that the same inputs always give the same LLB bytes (golden-tested).
package llb

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/envkit/envkit/internal/platform"
)

// Environment is what to build for one platform: the definition's parts that
// reach the image, and the locked packages of that platform.
type Environment struct {
	// BaseImage is the base image reference as written in the definition.
	// Exactly one of BaseImage and BaseDockerfile is set.
	BaseImage string
	// BaseDockerfile is the text of a Dockerfile whose last stage is the
	// base; BaseDockerfileName names it in errors.
	BaseDockerfile     []byte
	BaseDockerfileName string
	// Steps are Dockerfile instructions run on top of the base.
	Steps []string
	// StepLines are the lines of the steps in the definition file named
	// Name (optional): the steps are then converted at those lines, so
	// BuildKit's errors point into the definition.
	StepLines []int
	Name      string
	// Prefix is the conda environment's absolute path, e.g. /opt/conda.
	Prefix string
	// Env holds the definition's environment variables, in order.
	Env []EnvVar
	// Packages are the locked conda packages for this platform.
	Packages []*repodata.Record
	// Wheels are the locked pip packages for this platform, installed
	// into the conda environment's python after it is finalized.
	Wheels []Wheel
	// Spark is the spark section (nil when it names no packages).
	Spark *Spark
	// DefinitionHash and LockHash label the image (and key it, see
	// docs/frontend.md). LockHash is empty without a lock.
	DefinitionHash string
	LockHash       string
}

// EnvVar is one environment variable of the image.
type EnvVar struct{ Name, Value string }

// ResolvedImage is a base image whose digest and config the caller resolved.
type ResolvedImage struct {
	// Ref is the reference to pull, pinned by digest (name@sha256:…).
	Ref string
	// State overrides llb.Image(Ref), e.g. for a named context
	// (`context:<base>`) that replaces the registry image.
	State *llb.State
	// Config is the image config, inherited by the result.
	Config dockerspec.DockerOCIImage
}

// Options carries everything Build needs that is not part of the
// environment itself.
type Options struct {
	// Platform is the target platform; BuildPlatform is where the link steps
	// run (a package's files do not depend on the target architecture, so
	// they are linked natively and shared across targets).
	Platform      ocispecs.Platform
	BuildPlatform ocispecs.Platform
	// MultiPlatform prefixes vertex names with the platform.
	MultiPlatform bool

	// Base is the resolved base image (Environment.BaseImage). Unused for a
	// Dockerfile base.
	Base ResolvedImage
	// MetaResolver resolves the FROM images of a Dockerfile base. Required
	// for a Dockerfile base; nil otherwise.
	MetaResolver llb.ImageMetaResolver
	// DockerfileClient, when set (in the frontend), lets the Dockerfile
	// conversion use the build's named contexts, .dockerignore and build
	// context; without it (tests), BuildContext is the COPY source.
	DockerfileClient *dockerui.Client
	BuildContext     *llb.State
	// BuildArgs are passed to the Dockerfile conversion.
	BuildArgs map[string]string
	// Labels are added to the image config.
	Labels map[string]string

	// LinkBinary returns a state holding the static envkit binary at
	// /envkit for the given platform.
	LinkBinary func(ocispecs.Platform) llb.State
	// LocalArchive gives the archive of a package with a file:// URL,
	// which BuildKit cannot download: a state holding the channel's
	// directory (a named context from the client) and the archive's path
	// in it. ok is false when no directory serves the URL.
	LocalArchive func(url string) (dir llb.State, file string, ok bool)
	// Context gives the build context (where the lock lives) holding the
	// given path, for the wheel files the lock names by path; nil when
	// the build has none.
	Context func(path string) (llb.State, error)
	// Auth names the hosts whose downloads send a build secret as their
	// Authorization header (nil: none).
	Auth Auth

	// Epoch is SOURCE_DATE_EPOCH: file mtimes, created, history.
	Epoch time.Time
	// Version is envkit's version, recorded as a label.
	Version string
	// PackageLayers caps the number of conda package layers (0 means
	// DefaultPackageLayers); beyond it packages share layers.
	PackageLayers int
}

// Result is the converted environment.
type Result struct {
	State llb.State
	Image dockerspec.DockerOCIImage
	// BaseImage is the base's config before envkit changed it (nil for
	// scratch), as dockerui.BuildResult wants it.
	BaseImage *dockerspec.DockerOCIImage
}

// Build converts env into LLB for opts.Platform.
func Build(ctx context.Context, env Environment, opts Options) (*Result, error) {
	if env.Prefix == "" || !strings.HasPrefix(env.Prefix, "/") {
		return nil, fmt.Errorf("conda prefix %q must be an absolute path", env.Prefix)
	}
	base, err := buildBase(ctx, env, opts)
	if err != nil {
		return nil, err
	}
	img := base.Image
	st := base.State
	budget := opts.PackageLayers
	if budget <= 0 {
		budget = DefaultPackageLayers
	}
	condaBudget, wheelBudget := splitBudget(len(env.Packages), len(env.Wheels), budget)
	wheelGroups := groupByName(sortedWheels(env.Wheels), func(w Wheel) string { return w.Name }, wheelBudget)
	if len(env.Wheels) > 0 && len(env.Packages) == 0 {
		return nil, fmt.Errorf("pip packages are installed into the conda environment's python, and the environment has no conda packages")
	}
	layers := 0 // envkit's own layers, for the image's layer limit
	if len(env.Packages) > 0 {
		if opts.LinkBinary == nil {
			return nil, fmt.Errorf("conda packages need the envkit link binary, and none was given")
		}
		condaOpts := opts
		condaOpts.PackageLayers = condaBudget
		conda, err := condaLayers(env, condaOpts, base.State)
		if err != nil {
			return nil, err
		}
		st = conda.State
		img.History = append(img.History, conda.History...)
		layers += len(conda.History)
	}
	// Wheels and Spark files are layers of their own, merged onto the
	// finished conda environment: a changed pin reruns its own step and
	// the (cheap) merge, nothing of the conda part.
	merged := []llb.State{st}
	if len(wheelGroups) > 0 {
		python, err := pythonVersion(env.Packages)
		if err != nil {
			return nil, err
		}
		if python == "" {
			return nil, fmt.Errorf("pip packages need python in the conda environment, and the lock has none")
		}
		wheels, history, err := pipLayers(wheelGroups, python, env, opts, st)
		if err != nil {
			return nil, err
		}
		merged = append(merged, wheels...)
		img.History = append(img.History, history...)
	}
	if env.Spark != nil {
		spark, history, err := sparkLayer(env.Spark, env, opts)
		if err != nil {
			return nil, err
		}
		merged = append(merged, spark)
		img.History = append(img.History, history)
		// Before the definition's variables: its own SPARK_CONF_DIR wins.
		env.Env = append([]EnvVar{{"SPARK_CONF_DIR", sparkConfDir(env.Prefix)}}, env.Env...)
	}
	if len(merged) > 1 {
		layers += len(merged) - 1
		st = llb.Merge(merged, llb.WithCustomName(vertexName(opts, "envkit", fmt.Sprintf("merge %d pip and Spark layers", len(merged)-1))))
	}
	if baseLayers := len(opts.Base.Config.RootFS.DiffIDs); env.BaseImage != "" && baseLayers+layers > MaxLayers {
		return nil, fmt.Errorf("the image would have %d layers (base %d, envkit %d), over containerd's limit of %d: lower the package layer budget",
			baseLayers+layers, baseLayers, layers, MaxLayers)
	}
	configure(&img, env, opts)
	return &Result{State: st, Image: img, BaseImage: base.BaseImage}, nil
}

// buildBase returns the base after the custom steps.
func buildBase(ctx context.Context, env Environment, opts Options) (*Result, error) {
	switch {
	case env.BaseImage != "" && len(env.BaseDockerfile) > 0:
		return nil, fmt.Errorf("the base is both an image (%s) and a Dockerfile (%s)", env.BaseImage, env.BaseDockerfileName)
	case len(env.BaseDockerfile) > 0:
		return convertDockerfile(ctx, joinDockerfile(env.BaseDockerfile, env.Steps), env.BaseDockerfileName, opts.MetaResolver, opts)
	case env.BaseImage == "":
		return nil, fmt.Errorf("the environment names no base image")
	case opts.Base.Ref == "":
		return nil, fmt.Errorf("base image %s was not resolved", env.BaseImage)
	}
	if len(env.Steps) > 0 {
		// The steps run on the pinned base through BuildKit's own Dockerfile
		// conversion; the resolver answers for the pinned ref without asking
		// a registry. Through the frontend the unpinned name is used so that
		// a named context overriding the base still applies.
		from := opts.Base.Ref
		if opts.DockerfileClient != nil && opts.Base.State != nil {
			from = env.BaseImage
		}
		resolver := &pinnedResolver{ref: opts.Base.Ref, config: opts.Base.Config, next: opts.MetaResolver}
		if dt, ok := alignSteps("FROM "+from, env.Steps, env.StepLines); ok && env.Name != "" {
			return convertDockerfile(ctx, dt, env.Name, resolver, opts)
		}
		return convertDockerfile(ctx, joinDockerfile([]byte("FROM "+from+"\n"), env.Steps), "steps", resolver, opts)
	}
	st := llb.Image(opts.Base.Ref, llb.Platform(opts.Platform), llb.WithCustomName(vertexName(opts, "base", "FROM "+opts.Base.Ref)))
	if opts.Base.State != nil {
		st = *opts.Base.State
	}
	img := cloneImage(opts.Base.Config)
	baseImg := cloneImage(opts.Base.Config)
	img.Created = nil
	return &Result{State: st, Image: img, BaseImage: &baseImg}, nil
}

// alignSteps writes a Dockerfile whose first line is from and whose steps
// start at their lines in the definition (blank lines between, which the
// Dockerfile parser skips). ok is false when the lines cannot hold the
// steps in order.
func alignSteps(from string, steps []string, lines []int) ([]byte, bool) {
	if len(lines) != len(steps) || len(steps) == 0 {
		return nil, false
	}
	var b strings.Builder
	b.WriteString(from)
	at := 1 // the line b ends on
	for i, s := range steps {
		if lines[i] <= at {
			return nil, false
		}
		b.WriteString(strings.Repeat("\n", lines[i]-at))
		text := strings.TrimRight(s, "\n")
		b.WriteString(text)
		at = lines[i] + strings.Count(text, "\n")
	}
	b.WriteByte('\n')
	return []byte(b.String()), true
}

// joinDockerfile appends the steps to a Dockerfile's last stage.
func joinDockerfile(dockerfile []byte, steps []string) []byte {
	var b strings.Builder
	b.Write(dockerfile)
	if len(dockerfile) > 0 && dockerfile[len(dockerfile)-1] != '\n' {
		b.WriteByte('\n')
	}
	for _, s := range steps {
		b.WriteString(strings.TrimRight(s, "\n"))
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

func convertDockerfile(ctx context.Context, dt []byte, name string, resolver llb.ImageMetaResolver, opts Options) (*Result, error) {
	if resolver == nil {
		return nil, fmt.Errorf("%s: a Dockerfile base needs an image resolver", name)
	}
	args := make(map[string]string, len(opts.BuildArgs)+1)
	for k, v := range opts.BuildArgs {
		args[k] = v
	}
	args["SOURCE_DATE_EPOCH"] = fmt.Sprint(opts.Epoch.Unix())
	platform := opts.Platform
	copt := dockerfile2llb.ConvertOpt{
		Config: dockerui.Config{
			BuildArgs:              args,
			Labels:                 opts.Labels,
			TargetPlatforms:        []ocispecs.Platform{platform},
			BuildPlatforms:         []ocispecs.Platform{opts.BuildPlatform},
			MultiPlatformRequested: opts.MultiPlatform,
		},
		TargetPlatform: &platform,
		MetaResolver:   resolver,
		SourceMap:      llb.NewSourceMap(nil, name, "Dockerfile", dt),
	}
	if opts.DockerfileClient != nil {
		copt.Client = opts.DockerfileClient
		copt.Config = opts.DockerfileClient.Config
		copt.BuildArgs = args
		copt.TargetPlatforms = []ocispecs.Platform{platform}
	} else {
		copt.MainContext = opts.BuildContext
	}
	res, err := dockerfile2llb.Dockerfile2LLB(ctx, dt, copt)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &Result{State: res.State, Image: *res.Image, BaseImage: res.BaseImage}, nil
}

// vertexName prefixes a progress name with its stage and, in multi-platform
// builds, the platform.
func vertexName(opts Options, stage, what string) string {
	if opts.MultiPlatform {
		return fmt.Sprintf("[%s %s] %s", platform.Format(opts.Platform), stage, what)
	}
	return fmt.Sprintf("[%s] %s", stage, what)
}

// noNetwork keeps link and finalize steps off the network: everything they
// need is in their inputs, which is what makes them cacheable.
var noNetwork = llb.Network(pb.NetMode_NONE)
