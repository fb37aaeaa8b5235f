package main

import (
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	buildctl "github.com/moby/buildkit/cmd/buildctl/build"
	"github.com/moby/buildkit/util/progress/progressui"

	"github.com/envkit/envkit/frontend"
	"github.com/envkit/envkit/internal/buildplan"
	"github.com/envkit/envkit/internal/conda/lock"
	"github.com/envkit/envkit/internal/credentials"
	"github.com/envkit/envkit/internal/spec"
	envllb "github.com/envkit/envkit/llb"
)

// buildFlags are envkit build's flags.
type buildFlags struct {
	contextDir   string
	tags         []string
	push         string
	outputs      []string
	platforms    []string
	buildArgs    []string
	cacheTo      []string
	cacheFrom    []string
	progress     string
	metadataFile string
	addr         string
	frozen       bool
}

// progressMode maps --progress to BuildKit's display modes.
func progressMode(s string) (progressui.DisplayMode, error) {
	switch s {
	case "auto", "":
		return progressui.AutoMode, nil
	case "plain":
		return progressui.PlainMode, nil
	case "tty":
		return progressui.TtyMode, nil
	case "json":
		return progressui.RawJSONMode, nil
	case "quiet":
		return progressui.QuietMode, nil
	}
	return "", usagef("--progress %q: want auto, plain, tty, json or quiet", s)
}

// parseBuildArgs parses --build-arg K=V (a bare K takes $K, as docker
// does) and adds the build arguments envkit build takes from the client's
// environment when not given (buildplan.FromEnvironment: as buildx and
// buildctl pass SOURCE_DATE_EPOCH, envkit passes what the lock was made
// with: the channel alias and mirrors, CONDA_OVERRIDE_*).
func parseBuildArgs(args []string, getenv func(string) string, environ []string) (map[string]string, error) {
	out := map[string]string{}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if k == "" {
			return nil, usagef("--build-arg %q: want KEY=VALUE", a)
		}
		if !ok {
			v = getenv(k)
		}
		out[k] = v
	}
	for k, v := range buildplan.FromEnvironment(environ) {
		if _, ok := out[k]; !ok {
			out[k] = v
		}
	}
	return out, nil
}

// channelMounts are the directories of the definition's file:// channels
// by the named context the frontend reads each from (frontend.ChannelContext).
// A missing directory is an error here, before the build starts.
func channelMounts(def *spec.Definition, opts buildplan.Options) (map[string]string, error) {
	if def == nil {
		return nil, nil
	}
	lcs, err := frontend.LocalChannels(def, opts.Channels)
	if err != nil {
		return nil, err
	}
	mounts := map[string]string{}
	for _, lc := range lcs {
		fi, err := os.Stat(lc.Dir)
		switch {
		case err != nil:
			return nil, fmt.Errorf("%s: conda channel %s: %w", lc.Pos, lc.URL, err)
		case !fi.IsDir():
			return nil, fmt.Errorf("%s: conda channel %s: %s is not a directory", lc.Pos, lc.URL, lc.Dir)
		}
		mounts[lc.Context] = lc.Dir
	}
	return mounts, nil
}

// frontendAttrs are the options the frontend reads: the definition's file
// name in the dockerfile input, build arguments, platforms, the link
// binary taken from the envkit-bin local input, and the named contexts of
// file:// channels (channelMounts).
// requestPlatforms are the platforms envkit build asks BuildKit for:
// --platform's, else the definition's platforms: (what the frontend builds
// then, buildplan.Targets). BuildKit compares the result with the request,
// and without one with the daemon's own platform: an arm64 definition
// built on amd64 would get a warning that its platform does not match.
// def is nil when the definition does not parse.
func requestPlatforms(def *spec.Definition, flag []string) []string {
	if len(flag) > 0 || def == nil {
		return flag
	}
	return def.Platforms
}

func frontendAttrs(filename string, buildArgs map[string]string, platforms []string, channels map[string]string) map[string]string {
	attrs := map[string]string{
		"filename":             filename,
		frontend.OptLinkBinary: "local",
	}
	// Each file:// channel is a named context served by a local input of
	// the same name, as buildx --build-context NAME=DIR sends it.
	for name := range channels {
		attrs["context:"+name] = "local:" + name
	}
	for k, v := range buildArgs {
		attrs["build-arg:"+k] = v
	}
	if len(platforms) > 0 {
		attrs["platform"] = strings.Join(platforms, ",")
	}
	return attrs
}

// exports turns --output, --tag and --push into BuildKit exporter entries.
// names are the image names to give (the pushed hash tag first).
// File outputs are written to a temporary file renamed into place when
// complete (cleanup removes what a failed build left).
func exports(outputs []string, names []string, push bool, rewrite bool) (entries []client.ExportEntry, cleanup func(), err error) {
	var temps []string
	cleanup = func() {
		for _, t := range temps {
			os.Remove(t)
		}
	}
	imageNamed := false
	for _, s := range outputs {
		e, err := parseOutput(s)
		if err != nil {
			return nil, cleanup, err
		}
		if e.Type == client.ExporterImage {
			imageNamed = true
			if _, ok := e.Attrs["name"]; !ok && len(names) > 0 {
				e.Attrs["name"] = strings.Join(names, ",")
			}
			if push {
				e.Attrs["push"] = "true"
			}
		}
		if dest, ok := e.Attrs["dest"]; ok {
			delete(e.Attrs, "dest")
			if fileOutput(e) {
				tmp := dest + ".envkit-partial"
				temps = append(temps, tmp)
				e.Output = atomicFile(dest, tmp)
			} else {
				e.OutputDir = dest
			}
		}
		entries = append(entries, e)
	}
	if !imageNamed && len(names) > 0 {
		attrs := map[string]string{"name": strings.Join(names, ",")}
		if push {
			attrs["push"] = "true"
		}
		entries = append(entries, client.ExportEntry{Type: client.ExporterImage, Attrs: attrs})
	}
	for i := range entries {
		switch entries[i].Type {
		case client.ExporterImage, client.ExporterOCI, client.ExporterDocker:
			if _, ok := entries[i].Attrs["oci-mediatypes"]; !ok && entries[i].Type != client.ExporterDocker {
				entries[i].Attrs["oci-mediatypes"] = "true"
			}
			// With SOURCE_DATE_EPOCH and custom steps, files they write get it
			// too, so images are the same bytes on every builder.
			if _, ok := entries[i].Attrs["rewrite-timestamp"]; !ok && rewrite {
				entries[i].Attrs["rewrite-timestamp"] = "true"
			}
		}
	}
	return entries, cleanup, nil
}

// parseOutput reads buildx's --output forms: type=TYPE,KEY=VALUE,… or a
// bare path (type=local,dest=PATH).
func parseOutput(s string) (client.ExportEntry, error) {
	e := client.ExportEntry{Attrs: map[string]string{}}
	if !strings.Contains(s, "=") {
		if s == "" || s == "-" {
			return e, usagef("--output %q: name a directory, or type=TYPE,dest=PATH", s)
		}
		e.Type = client.ExporterLocal
		e.Attrs["dest"] = s
		return e, nil
	}
	r := csv.NewReader(strings.NewReader(s))
	fields, err := r.Read()
	if err != nil {
		return e, usagef("--output %q: %v", s, err)
	}
	for _, f := range fields {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return e, usagef("--output %q: %q is not KEY=VALUE", s, f)
		}
		k = strings.ToLower(strings.TrimSpace(k))
		if k == "type" {
			e.Type = v
		} else {
			e.Attrs[k] = v
		}
	}
	switch e.Type {
	case client.ExporterImage, client.ExporterOCI, client.ExporterDocker, client.ExporterLocal, client.ExporterTar:
	case "":
		return e, usagef("--output %q: type=image|oci|docker|local|tar is required", s)
	default:
		return e, usagef("--output %q: unknown type %q (image, oci, docker, local, tar)", s, e.Type)
	}
	dest, hasDest := e.Attrs["dest"]
	switch {
	case e.Type == client.ExporterImage && hasDest:
		return e, usagef("--output %q: type=image takes name=, not dest=", s)
	case e.Type != client.ExporterImage && (!hasDest || dest == ""):
		return e, usagef("--output %q: type=%s needs dest=PATH", s, e.Type)
	}
	return e, nil
}

// fileOutput tells exporters that write one file (tar; oci and docker
// unless tar=false) from those that write a directory.
func fileOutput(e client.ExportEntry) bool {
	switch e.Type {
	case client.ExporterTar:
		return true
	case client.ExporterOCI, client.ExporterDocker:
		return e.Attrs["tar"] != "false"
	}
	return false
}

// atomicFile writes to tmp and renames it to dest on a successful Close.
func atomicFile(dest, tmp string) func(map[string]string) (io.WriteCloser, error) {
	return func(map[string]string) (io.WriteCloser, error) {
		f, err := os.Create(tmp)
		if err != nil {
			return nil, err
		}
		return &renameOnClose{File: f, dest: dest}, nil
	}
}

type renameOnClose struct {
	*os.File
	dest string
}

func (r *renameOnClose) Close() error {
	if err := r.File.Close(); err != nil {
		return err
	}
	return os.Rename(r.Name(), r.dest)
}

// cacheOptions parses --cache-to and --cache-from with buildctl's own
// parsers (type=registry,ref=…,mode=max; local, inline, s3, gha, azblob).
func cacheOptions(to, from []string) (exports, imports []client.CacheOptionsEntry, err error) {
	if exports, err = buildctl.ParseExportCache(to); err != nil {
		return nil, nil, usagef("--cache-to: %v", err)
	}
	if imports, err = buildctl.ParseImportCache(from); err != nil {
		return nil, nil, usagef("--cache-from: %v", err)
	}
	return exports, imports, nil
}

// metadata is what --metadata-file holds: the exporter's response, with
// base64 JSON values decoded as buildctl does, and envkit's own keys.
func metadata(resp map[string]string, extra map[string]string) ([]byte, error) {
	out := map[string]any{}
	for k, v := range resp {
		out[k] = v
		if dt, err := base64.StdEncoding.DecodeString(v); err == nil {
			var raw map[string]any
			if json.Unmarshal(dt, &raw) == nil && len(raw) > 0 {
				out[k] = json.RawMessage(dt)
			}
		}
	}
	for k, v := range extra {
		if v != "" {
			out[k] = v
		}
	}
	return json.MarshalIndent(out, "", "  ")
}

// buildAuth is what a build needs to download from private hosts: the
// hosts whose downloads send a secret (the value of ENVKIT_AUTH_HOSTS)
// and the secrets by id (envkit-auth-HOST: the Authorization header
// value), which reach the daemon only through the session.
type buildAuth struct {
	hosts   []string
	secrets map[string][]byte
	// notes say what cannot reach the build (a /t/<token>/ token, which
	// only a URL carries).
	notes []string
}

// lockAuth looks up, with lookup (credentials.ForURL), the credentials of
// every host the lock downloads from (buildplan.LockDownloads) as envkit
// lock and create would send them.
func lockAuth(lk *lock.Lock, lookup func(string) (credentials.Auth, error)) (buildAuth, error) {
	downloads, err := buildplan.LockDownloads(lk)
	if err != nil {
		return buildAuth{}, err
	}
	a := buildAuth{secrets: map[string][]byte{}}
	for _, host := range slices.Sorted(maps.Keys(downloads)) {
		got, err := lookup(downloads[host])
		if err != nil {
			return buildAuth{}, err
		}
		switch {
		case got.Header != "":
			a.hosts = append(a.hosts, host)
			a.secrets[envllb.AuthSecret(host)] = []byte(got.Header)
		case got.URL != downloads[host]:
			a.notes = append(a.notes, fmt.Sprintf("%s: a /t/<token>/ token cannot reach a build (BuildKit records the URLs it downloads): the build downloads without it; give %s a login in ~/.netrc, or a BasicHTTP or BearerToken entry in $RATTLER_AUTH_FILE, instead (a CondaToken, like a /t/<token>/ URL, travels in the URL)", host, host))
		}
	}
	return a, nil
}

// definitionAuth is lockAuth for the lock a build of def reads in
// contextDir (none for a definition without a conda environment, or that
// does not parse: the frontend reports it), plus the credentials of a git
// build context as the secret BuildKit's git source reads for its host
// (GIT_AUTH_HEADER.<host>, the header value), found as envkit's own git
// reads find them.
func definitionAuth(def *spec.Definition, contextDir string) (buildAuth, error) {
	a := buildAuth{secrets: map[string][]byte{}}
	if def == nil {
		return a, nil
	}
	if def.HasCondaEnvironment() {
		lk, err := lock.ReadFile(filepath.Join(contextDir, buildplan.LockFile))
		if err != nil {
			return buildAuth{}, err
		}
		if a, err = lockAuth(lk, credentials.ForURL); err != nil {
			return buildAuth{}, err
		}
	}
	if g := def.Base.Git; g != nil {
		got, err := credentials.ForURL(g.Remote)
		if err != nil {
			return buildAuth{}, err
		}
		if u, perr := url.Parse(g.Remote); perr == nil && u.Host != "" && got.Header != "" {
			a.secrets[llb.GitAuthHeaderKey+"."+u.Host] = []byte(got.Header)
		}
	}
	return a, nil
}
