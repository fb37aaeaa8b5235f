package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/docker/cli/cli/config"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/auth/authprovider"
	"github.com/moby/buildkit/session/secrets/secretsprovider"
	"github.com/moby/buildkit/util/progress/progressui"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/cobra"
	"github.com/tonistiigi/fsutil"
	"golang.org/x/mod/semver"
	"golang.org/x/sync/errgroup"

	"github.com/envkit/envkit/frontend"
	"github.com/envkit/envkit/internal/buildplan"
	"github.com/envkit/envkit/internal/platform"
	"github.com/envkit/envkit/internal/spec"
)

func init() { commands = append(commands, newBuildCmd) }

func newBuildCmd() *cobra.Command {
	var f buildFlags
	cmd := &cobra.Command{
		Use:   "build FILE",
		Short: "Build an environment definition into an OCI image with BuildKit",
		Long: `build runs envkit's BuildKit frontend in this process (no frontend image is
needed) against the BuildKit at --addr or $BUILDKIT_HOST; without either it
starts, or reuses, a local rootful buildkitd managed by envkit (state under
~/.cache/envkit/buildkitd; envkit buildkitd stop ends it).

The definition's directory is the build context unless --context names
another; files it references (conda file, lock, Dockerfile) come from there.
The directory of each file:// channel goes to the build as its named context
(conda-channel/NAME-HASH, docs/frontend.md). SOURCE_DATE_EPOCH,
ENVKIT_CHANNEL_ALIAS and ENVKIT_CHANNEL_MIRRORS from the environment become
build arguments unless --build-arg gives them.

A definition with a conda environment is built from its lock
(conda-lock.yml in the build context): when there is none, or the
definition changed since, build locks first as envkit lock would (with the
environment's ENVKIT_CHANNEL_* and CONDA_OVERRIDE_* variables) and says
so; --frozen builds from the lock as it is and refuses to write one.

Private channels, indexes and Maven repositories: for each host the lock
downloads from, build looks up credentials as envkit lock does (~/.netrc or
$NETRC, $RATTLER_AUTH_FILE, PIP_INDEX_URL) and gives the daemon the
Authorization header as the session secret envkit-auth-HOST; the build
argument ENVKIT_AUTH_HOSTS names the hosts only (docs/frontend.md).

With --push REPO, build first looks up the image key (definition hash, lock
hash, base digest; docs/frontend.md) as a tag in REPO: when the tag exists it
prints that image's digest and builds nothing; otherwise it builds, pushes
REPO:<key> and every --tag.`,
		Example: `  envkit build environment.yml --tag registry.example/ml/env:1 --push registry.example/ml/env
  envkit build environment.yml --output type=oci,dest=env.tar
  envkit build environment.yml --cache-to type=registry,ref=reg/cache,mode=max --cache-from type=registry,ref=reg/cache`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBuild(cmd.Context(), cmd.ErrOrStderr(), cmd.OutOrStdout(), args[0], f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.contextDir, "context", "", "build context directory (default: the definition's directory)")
	fl.StringArrayVarP(&f.tags, "tag", "t", nil, "image name to give the result (repeatable)")
	fl.StringVar(&f.push, "push", "", "push to REPO under the image key tag (and every --tag); reuse the image when the tag exists")
	fl.StringArrayVarP(&f.outputs, "output", "o", nil, "output: type=image|oci|docker|local|tar[,dest=PATH][,KEY=VALUE…], or a directory")
	fl.StringArrayVar(&f.platforms, "platform", nil, "target platform(s), e.g. linux/amd64,linux/arm64")
	fl.StringArrayVar(&f.buildArgs, "build-arg", nil, "build argument KEY=VALUE (e.g. SOURCE_DATE_EPOCH, ENVKIT_BASE_IMAGE)")
	fl.StringArrayVar(&f.cacheTo, "cache-to", nil, "cache export, e.g. type=registry,ref=REPO:cache,mode=max")
	fl.StringArrayVar(&f.cacheFrom, "cache-from", nil, "cache import, e.g. type=registry,ref=REPO:cache")
	fl.StringVar(&f.progress, "progress", "auto", "progress output: auto, plain, tty, json or quiet")
	fl.StringVar(&f.metadataFile, "metadata-file", "", "write the build result's metadata (digest, image key) as JSON")
	fl.StringVar(&f.addr, "addr", "", "BuildKit address (default: $BUILDKIT_HOST, else envkit's local buildkitd)")
	fl.BoolVar(&f.frozen, "frozen", false, "build from the lock as it is: never write conda-lock.yml, fail without one")
	return cmd
}

func runBuild(ctx context.Context, stderr, stdout io.Writer, file string, f buildFlags) error {
	if ctx == nil {
		ctx = context.Background()
	}
	mode, err := progressMode(f.progress)
	if err != nil {
		return err
	}
	given := file // for the hints, which the user runs from here
	file, err = filepath.Abs(file)
	if err != nil {
		return err
	}
	if _, err := os.Stat(file); err != nil {
		return err
	}
	contextDir := filepath.Dir(file)
	if f.contextDir != "" {
		if contextDir, err = filepath.Abs(f.contextDir); err != nil {
			return err
		}
	}
	buildArgs, err := parseBuildArgs(f.buildArgs, os.Getenv, os.Environ())
	if err != nil {
		return err
	}
	if _, ok := buildArgs[buildplan.ArgAuthHosts]; ok {
		return usagef("--build-arg %s: envkit build sets it itself, for the hosts it has credentials for (~/.netrc or $NETRC, $RATTLER_AUTH_FILE, PIP_INDEX_URL)", buildplan.ArgAuthHosts)
	}
	opts, err := buildplan.ParseOptions(buildArgs)
	if err != nil {
		return err
	}
	// The definition as the frontend will read it; nil when it does not
	// parse: the frontend then reports the errors, at their lines (the
	// key lookup of --push reports them itself).
	def, defErr := readDefinition(ctx, file, contextDir)
	platforms := splitList(f.platforms)
	if defErr == nil {
		if err := lockFirst(ctx, stderr, given, file, contextDir, def, opts, platforms, f.frozen); err != nil {
			return err
		}
	}
	// The credentials of the hosts the build downloads from go to the
	// daemon as session secrets; the build argument names the hosts only.
	private, err := definitionAuth(def, contextDir)
	if err != nil {
		return err
	}
	for _, n := range private.notes {
		fmt.Fprintln(stderr, "envkit: "+n)
	}
	if len(private.hosts) > 0 {
		buildArgs[buildplan.ArgAuthHosts] = buildplan.AuthHostsArg(private.hosts)
	}
	cacheExports, cacheImports, err := cacheOptions(f.cacheTo, f.cacheFrom)
	if err != nil {
		return err
	}

	addr, err := buildkitAddr(ctx, stderr, f.addr)
	if err != nil {
		return err
	}
	c, err := client.New(ctx, addr)
	if err != nil {
		return fmt.Errorf("BuildKit at %s: %w", addr, err)
	}
	defer c.Close()

	auth := dockerAuth(stderr)
	meta := map[string]string{}
	var names []string
	noKey := ""
	if f.push != "" {
		if defErr != nil {
			return defErr
		}
		k, err := imageKey(ctx, c, auth, f.push, def, contextDir, opts, platforms)
		if err != nil {
			return err
		}
		meta["envkit.definition-hash"] = k.DefinitionHash
		if k.Tag == "" {
			noKey = k.NoKey
			fmt.Fprintf(stderr, "envkit: %s: no image key (%s); building without a lookup\n", filepath.Base(file), k.NoKey)
		} else {
			ref := f.push + ":" + k.Tag
			meta["envkit.image-key"] = k.Tag
			meta["envkit.image"] = ref
			if k.existing != "" {
				fmt.Fprintf(stderr, "envkit: %s exists: nothing to build\n", ref)
				fmt.Fprintf(stdout, "%s@%s\n", ref, k.existing)
				meta["containerimage.digest"] = k.existing
				return writeMetadata(f.metadataFile, nil, meta)
			}
			names = append(names, ref)
		}
	}
	names = append(names, f.tags...)
	// Checked after the lookup, so that a reuse needs no channel directory,
	// and before the build.
	channels, err := channelMounts(def, opts)
	if err != nil {
		return err
	}
	if f.push != "" && len(names) == 0 {
		return fmt.Errorf("--push %s: nothing to push: the image key is unknown (%s) and no --tag names the image", f.push, noKey)
	}
	_, epoch := buildArgs[buildplan.ArgEpoch]
	rewrite := epoch && runsSteps(def)
	if rewrite {
		rewrite = rewriteTimestampSupported(ctx, c, stderr)
	}
	outputs, cleanup, err := exports(f.outputs, names, f.push != "", rewrite)
	if err != nil {
		return err
	}
	if len(outputs) == 0 {
		fmt.Fprintln(stderr, "envkit: no --output, --tag or --push: the result stays in BuildKit's cache")
	}

	builder, err := builderPlatform(ctx, c)
	if err != nil {
		return err
	}
	linkPs, err := linkPlatforms(def, platforms, builder)
	if err != nil {
		return err
	}
	binDirs, removeBinDirs, err := linkBinaryDirs(linkPs)
	if err != nil {
		return err
	}
	defer removeBinDirs()
	mounts := map[string]string{"dockerfile": filepath.Dir(file), "context": contextDir}
	maps.Copy(mounts, binDirs)
	for name, dir := range channels {
		mounts[name] = dir
	}
	localMounts := map[string]fsutil.FS{}
	for name, dir := range mounts {
		if localMounts[name], err = fsutil.NewFS(dir); err != nil {
			return err
		}
	}
	attrs := frontendAttrs(filepath.Base(file), buildArgs, requestPlatforms(def, platforms), channels)
	solveOpt := client.SolveOpt{
		Exports:       outputs,
		LocalMounts:   localMounts,
		FrontendAttrs: attrs,
		CacheExports:  cacheExports,
		CacheImports:  cacheImports,
		Session:       []session.Attachable{auth},
	}
	if len(private.secrets) > 0 {
		solveOpt.Session = append(solveOpt.Session, secretsprovider.FromMap(private.secrets))
	}

	frontend.Version = version
	ch := make(chan *client.SolveStatus)
	display, err := progressui.NewDisplay(stderr, mode)
	if err != nil {
		return usagef("--progress %s: %v", f.progress, err)
	}
	var resp *client.SolveResponse
	logs := newStepLogs()
	eg, ectx := errgroup.WithContext(ctx)
	eg.Go(func() error {
		var err error
		resp, err = c.Build(ectx, solveOpt, "envkit", frontend.Build, ch)
		return err
	})
	eg.Go(func() error {
		// The display drains ch until Build closes it, even on failure.
		_, err := display.UpdateFrom(context.WithoutCancel(ectx), logs.tee(ch))
		return err
	})
	if err := eg.Wait(); err != nil {
		cleanup()
		// Plain and tty displays show a failed step's output, json carries
		// it; quiet shows none.
		if mode == progressui.QuietMode {
			logs.print(stderr)
		}
		return err
	}
	if d := resp.ExporterResponse["containerimage.digest"]; d != "" {
		for _, n := range names {
			if f.push != "" {
				fmt.Fprintf(stdout, "%s@%s\n", n, d)
			}
		}
		if f.push == "" {
			fmt.Fprintln(stdout, d)
		}
	}
	return writeMetadata(f.metadataFile, resp.ExporterResponse, meta)
}

func writeMetadata(path string, resp, extra map[string]string) error {
	if path == "" {
		return nil
	}
	b, err := metadata(resp, extra)
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(b, '\n'))
}

// splitList flattens repeated, comma-separated flag values.
func splitList(vs []string) []string {
	var out []string
	for _, v := range vs {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// dockerAuth gives the daemon the credentials of ~/.docker/config.json, as
// buildctl and buildx do.
func dockerAuth(stderr io.Writer) session.Attachable {
	return authprovider.NewDockerAuthProvider(authprovider.DockerAuthProviderConfig{
		AuthConfigProvider: authprovider.LoadAuthConfig(config.LoadDefaultConfigFile(stderr)),
	})
}

// readDefinition parses the definition as the frontend will: a git build
// context at the commit the lock at the context root pins (gitOpener).
func readDefinition(ctx context.Context, file, contextDir string) (*spec.Definition, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	git, open := gitOpener(ctx, filepath.Join(contextDir, buildplan.LockFile), false)
	defer git.Close()
	return spec.ParseWith(filepath.Base(file), data, os.DirFS(contextDir), spec.Options{Git: open})
}

// runsSteps says whether the definition has layers envkit does not write
// itself (custom steps, a Dockerfile base), whose file times only the
// exporter's rewrite-timestamp sets to SOURCE_DATE_EPOCH. envkit's own
// layers already carry it, and rewriting every layer again costs most of a
// no-op rebuild. A definition that does not parse (nil) counts as having
// steps: the frontend reports the error.
func runsSteps(def *spec.Definition) bool {
	return def == nil || len(def.Steps) > 0 || def.Base.Dockerfile != ""
}

// lockFirst makes the lock a build of def for targets reads, in
// contextDir, current:
// without one, or with one the definition no longer matches, it locks as
// envkit lock does (which leaves a current lock untouched). With frozen it
// writes nothing, and a lock missing, stale or without a target platform
// is an error naming the definition as given (the frontend, which checks
// the lock too, knows only its name in the context).
func lockFirst(ctx context.Context, stderr io.Writer, given, file, contextDir string, def *spec.Definition, opts buildplan.Options, targets []string, frozen bool) error {
	if !def.HasCondaEnvironment() {
		return nil
	}
	path := filepath.Join(contextDir, buildplan.LockFile)
	if frozen {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s: no %s in the build context, and --frozen forbids writing one: run envkit lock %s", given, buildplan.LockFile, given)
		}
		return checkFrozenLock(contextDir, given, def, opts, targets)
	}
	// The definition's platforms, and the --platform targets the frontend
	// will read the lock for.
	subdirs, err := buildplan.Subdirs(def)
	if err != nil {
		return err
	}
	for _, t := range targets {
		p, err := platform.Parse(t)
		if err != nil {
			return usagef("--platform %s: %v", t, err)
		}
		if !slices.Contains(subdirs, p.Subdir) {
			subdirs = append(subdirs, p.Subdir)
			fmt.Fprintf(stderr, "envkit: --platform %s: locking %s too, which %s does not name (envkit lock --check calls such a lock stale: add %s to its platforms:)\n", t, p.Subdir, filepath.Base(file), t)
		}
	}
	return runLock(ctx, io.Discard, stderr, &lockOptions{file: file, out: path, platforms: subdirs, quietWhenCurrent: true})
}

// checkFrozenLock reads the lock of a --frozen build as the frontend will
// (buildplan.ReadLock), with def named as given. Without --platform or
// the definition's platforms: the targets are the daemon's, unknown here,
// and the frontend checks.
func checkFrozenLock(contextDir, given string, def *spec.Definition, opts buildplan.Options, requested []string) error {
	var req []ocispecs.Platform
	for _, t := range requested {
		p, err := platform.Parse(t)
		if err != nil {
			return usagef("--platform %s: %v", t, err)
		}
		req = append(req, p.OCI())
	}
	if len(req) == 0 && len(def.Platforms) == 0 {
		return nil
	}
	targets, err := buildplan.Targets(def, req, ocispecs.Platform{})
	if err != nil {
		return err
	}
	shown := *def
	shown.Source.Path = given
	_, err = buildplan.ReadLock(os.DirFS(contextDir), &shown, opts, targets)
	return err
}

// rewriteTimestamp is the first BuildKit release whose image exporter
// takes rewrite-timestamp (exptypes in v0.13.0).
const rewriteTimestamp = "v0.13.0"

// rewriteTimestampSupported says whether the daemon's exporter can set the
// layers of custom steps to SOURCE_DATE_EPOCH; when it cannot, it says
// once what is lost. envkit's own layers carry the epoch either way.
func rewriteTimestampSupported(ctx context.Context, c *client.Client, stderr io.Writer) bool {
	info, err := c.Info(ctx)
	if err != nil {
		return true // an unknown version: ask, as buildx does
	}
	v := info.BuildkitVersion.Version
	if semver.IsValid(v) && semver.Compare(v, rewriteTimestamp) < 0 {
		fmt.Fprintf(stderr, "envkit: BuildKit %s has no rewrite-timestamp (%s and later): the layers of the definition's custom steps keep their build times, so such an image is not reproducible on this daemon (envkit's own layers are)\n", v, rewriteTimestamp)
		return false
	}
	return true
}
