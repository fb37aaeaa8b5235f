// Package buildplan owns the rules that decide what a build makes, for the
// frontend and the CLI alike: the build options read from build arguments,
// the effective base image and the definition hash, the target platforms
// and their conda subdirs, the lock as a build reads it, and the image
// key. It resolves nothing over the network itself: where a rule needs a
// registry (the base's digest), the caller passes a resolver.
package buildplan

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/envkit/envkit/internal/conda/channel"
	"github.com/envkit/envkit/internal/credentials"
	"github.com/envkit/envkit/internal/spec"
	envllb "github.com/envkit/envkit/llb"
)

// Build arguments envkit reads.
const (
	ArgBaseImage     = spec.BaseImageEnv
	ArgEpoch         = "SOURCE_DATE_EPOCH"
	ArgImageCache    = "ENVKIT_IMAGE_CACHE"
	ArgPackageLayers = "ENVKIT_PACKAGE_LAYERS"
	ArgChannelAlias  = channel.EnvAlias
	ArgMirrors       = channel.EnvMirrors
	// ArgCondaOverride starts the CONDA_OVERRIDE_* arguments
	// (virtual.OverrideVars).
	ArgCondaOverride = "CONDA_OVERRIDE_"
)

// Arg describes one build argument: the outline subrequest, envkit build's
// pass-through and docs/frontend.md's table come from Args.
type Arg struct {
	Name string // a prefix when it ends in "*"
	// Default is the value when unset, as shown to users.
	Default string
	Doc     string
	// InKey says whether the argument enters the image key (through the
	// definition hash, the lock hash or its own line).
	InKey bool
	// FromEnvironment: envkit build passes the client's variable when set
	// and not given as --build-arg, as buildx does for SOURCE_DATE_EPOCH.
	FromEnvironment bool
}

// Args are every build argument envkit reads, in documentation order.
var Args = []Arg{
	{Name: ArgBaseImage, Default: spec.DefaultBaseImage, InKey: true, FromEnvironment: true,
		Doc: "base image for definitions that name none (conda environment.yml, requirements.txt)"},
	{Name: ArgEpoch, Default: "0", FromEnvironment: true,
		Doc: "seconds since 1970 for file times written by envkit link, the config's created, history entries and org.opencontainers.image.created"},
	{Name: ArgImageCache,
		Doc: "registry/repo where images are kept by key; a hit is returned without running a step"},
	{Name: ArgPackageLayers, Default: "100", InKey: true,
		Doc: "the package layer budget, an integer of at least 1"},
	{Name: ArgChannelAlias, FromEnvironment: true, InKey: true,
		Doc: "channel alias (docs/channels.md) for a solve in the frontend and for finding file:// channels"},
	{Name: ArgMirrors, FromEnvironment: true, InKey: true,
		Doc: "channel mirrors (docs/channels.md) for a solve in the frontend and for finding file:// channels"},
	{Name: ArgCondaOverride + "*", InKey: true, FromEnvironment: true,
		Doc: "virtual package overrides, as when the lock was made (they enter the lock's content hash)"},
	{Name: ArgAuthHosts,
		Doc: "hosts (host or host:port, comma-separated) whose downloads send the build secret envkit-auth-HOST as their Authorization header"},
}

// Options are the build arguments, read once.
type Options struct {
	// BaseImage is ENVKIT_BASE_IMAGE, "" when unset.
	BaseImage string
	// Epoch is SOURCE_DATE_EPOCH, the Unix epoch when unset.
	Epoch time.Time
	// ImageCache is ENVKIT_IMAGE_CACHE, "" when unset.
	ImageCache string
	// PackageLayers is ENVKIT_PACKAGE_LAYERS, 0 (the default budget) when
	// unset.
	PackageLayers int
	// Channels are the channel alias and mirrors.
	Channels *channel.Config
	// Auth is ENVKIT_AUTH_HOSTS: the downloads that send a secret.
	Auth envllb.Auth
	// args are all build arguments, for Lookup.
	args map[string]string
}

// ParseOptions reads the build arguments; a bad value is an error naming
// the argument and what it wants.
func ParseOptions(args map[string]string) (Options, error) {
	o := Options{BaseImage: args[ArgBaseImage], ImageCache: args[ArgImageCache], Epoch: time.Unix(0, 0).UTC(), args: args}
	if v := args[ArgEpoch]; v != "" {
		sec, err := strconv.ParseInt(v, 10, 64)
		if err != nil || sec < 0 {
			return Options{}, fmt.Errorf("build argument %s=%q: want seconds since 1970 (a non-negative integer)", ArgEpoch, v)
		}
		o.Epoch = time.Unix(sec, 0).UTC()
	}
	if v := args[ArgPackageLayers]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return Options{}, fmt.Errorf("build argument %s=%q: want the number of conda and pip package layers, an integer of at least 1", ArgPackageLayers, v)
		}
		o.PackageLayers = n
	}
	cfg, err := channel.FromEnv(func(k string) string { return args[k] })
	if err != nil {
		return Options{}, fmt.Errorf("build arguments: %w", err)
	}
	if err := credentialFree(cfg); err != nil {
		return Options{}, err
	}
	o.Channels = cfg
	if o.Auth, err = parseAuth(args[ArgAuthHosts]); err != nil {
		return Options{}, err
	}
	return o, nil
}

// withoutCredentials is a channel alias or mirrors value from the
// client's environment without the credentials in its URLs: the client
// reads private channels with them (envkit lock), the build gets the bare
// URLs (credentialFree).
func withoutCredentials(arg, value string) string {
	switch arg {
	case ArgChannelAlias:
		if bare := credentials.StripBase(value); bare != "" {
			return bare
		}
	case ArgMirrors:
		specs := strings.Split(value, ",")
		for i, spec := range specs {
			if from, to, ok := strings.Cut(spec, "="); ok {
				if bare := credentials.StripBase(strings.TrimSpace(to)); bare != "" {
					specs[i] = from + "=" + bare
				}
			}
		}
		return strings.Join(specs, ",")
	}
	return value
}

// credentialFree refuses a channel alias or mirror that carries
// credentials (user:token@, a /t/<token>/ segment): BuildKit records
// build arguments as given, in the build's provenance and history, where
// a token must never be. The message names the argument and host only.
func credentialFree(cfg *channel.Config) error {
	check := func(arg, u string) error {
		if bare := credentials.Strip(u); bare != "" && bare != u {
			host := u
			if p, err := url.Parse(u); err == nil {
				host = p.Host
			}
			return fmt.Errorf("build argument %s: the URL for %s carries credentials, which BuildKit would record in the build's provenance: give it without them (private channels in builds: lock on the host with envkit lock, which reads credentials from ~/.netrc or the URL and writes bare URLs)", arg, host)
		}
		return nil
	}
	if err := check(ArgChannelAlias, cfg.Alias); err != nil {
		return err
	}
	for _, to := range cfg.Mirrors {
		if err := check(ArgMirrors, to); err != nil {
			return err
		}
	}
	return nil
}

// Lookup gives a build argument as os.LookupEnv gives a variable: the
// frontend sees no client environment, so CONDA_OVERRIDE_* come from here.
func (o Options) Lookup(k string) (string, bool) {
	v, ok := o.args[k]
	return v, ok
}

// ValueIn is the argument's value in args, "" when unset; for a prefix
// argument, the given ones as sorted NAME=value lines.
func (a Arg) ValueIn(args map[string]string) string {
	prefix, ok := strings.CutSuffix(a.Name, "*")
	if !ok {
		return args[a.Name]
	}
	var set []string
	for k, v := range args {
		if strings.HasPrefix(k, prefix) {
			set = append(set, k+"="+v)
		}
	}
	sort.Strings(set)
	return strings.Join(set, "\n")
}

// FromEnvironment are the build arguments envkit build takes from the
// client's environment when set and not given: one for each Arg with
// FromEnvironment (every variable with the prefix, for a prefix
// argument). environ is os.Environ's form.
func FromEnvironment(environ []string) map[string]string {
	out := map[string]string{}
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || v == "" {
			continue
		}
		for _, a := range Args {
			if !a.FromEnvironment {
				continue
			}
			if prefix, isPrefix := strings.CutSuffix(a.Name, "*"); (isPrefix && strings.HasPrefix(k, prefix)) || k == a.Name {
				out[k] = withoutCredentials(k, v)
			}
		}
	}
	return out
}
