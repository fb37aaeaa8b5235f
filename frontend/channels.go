package frontend

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"sort"
	"strings"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerui"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"

	"github.com/envkit/envkit/internal/buildplan"
	"github.com/envkit/envkit/internal/conda/channel"
	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/envkit/envkit/internal/platform"
	"github.com/envkit/envkit/internal/spec"
)

// channelContextPrefix starts the named context of every file:// channel.
const channelContextPrefix = "conda-channel/"

// LocalChannel is a file:// channel of a definition. BuildKit has no
// file:// source, so its directory reaches the build as a named context,
// as the Dockerfile frontend's --build-context does.
type LocalChannel struct {
	// URL is where the channel is read from (its mirror when it has one):
	// file:///dir, without a trailing slash.
	URL string
	// Dir is the directory URL names, on the client.
	Dir string
	// Context is the named context the build takes it from
	// (ChannelContext of URL).
	Context string
	// Pos is where the definition names the channel.
	Pos spec.Pos
}

// ChannelContext is the named context of a file:// channel location:
// "conda-channel/" + the directory's base name made a valid image name
// component + "-" + the first 8 hex digits of sha256(location), e.g.
// conda-channel/test-recipes-5d1c0f4e for file:///srv/test-recipes. The
// hash keeps two channels with one base name apart (mirrors of
// conda-forge in two places); the name keeps the flag readable.
func ChannelContext(location string) string {
	sum := sha256.Sum256([]byte(location))
	return channelContextPrefix + nameComponent(path.Base(locationPath(location))) + "-" + hex.EncodeToString(sum[:4])
}

// nameComponent lowercases s and turns every run of other characters than
// a-z and 0-9 into one "-", so that it is a path component of an image
// reference (what dockerui parses a named context's name as).
func nameComponent(s string) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(s) {
		if 'a' <= c && c <= 'z' || '0' <= c && c <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(c)
			dash = false
		} else {
			dash = true
		}
		if b.Len() >= 40 {
			break
		}
	}
	if b.Len() == 0 {
		return "channel"
	}
	return b.String()
}

// locationPath is the directory of a file:// URL.
func locationPath(location string) string {
	u, err := url.Parse(location)
	if err != nil || u.Path == "" {
		return strings.TrimPrefix(location, "file://")
	}
	return u.Path
}

// LocalChannels lists the file:// channels the definition reads, after
// the channel alias and mirrors cfg gives (buildplan.Options.Channels),
// each once.
// Channels resolve the same for every linux subdir, the only kind envkit
// builds (only win-* targets add a channel, defaults' msys2).
func LocalChannels(def *spec.Definition, cfg *channel.Config) ([]LocalChannel, error) {
	if !def.HasCondaEnvironment() {
		return nil, nil
	}
	type written struct {
		name string
		pos  spec.Pos
	}
	var specs []written
	for _, ch := range def.Conda.Channels {
		specs = append(specs, written{ch.Name, ch.Pos})
	}
	if len(specs) == 0 {
		specs = []written{{channel.Default, def.Conda.Pos}}
	}
	var out []LocalChannel
	seen := map[string]bool{}
	for _, s := range specs {
		chans, err := cfg.Resolve(s.name, "linux-64")
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.pos, err)
		}
		for _, ch := range chans {
			if !strings.HasPrefix(ch.Location, "file:") || seen[ch.Location] {
				continue
			}
			seen[ch.Location] = true
			out = append(out, LocalChannel{URL: ch.Location, Dir: locationPath(ch.Location), Context: ChannelContext(ch.Location), Pos: s.pos})
		}
	}
	return out, nil
}

// missingContext is the error for a file:// channel whose named context
// the build was not given, with the flags that give it.
func missingContext(lc LocalChannel) error {
	return fmt.Errorf("%s: conda channel %s: BuildKit cannot read file:// URLs, so the build takes the channel's directory from the named context %s, which it was not given. Pass it:\n"+
		"  docker buildx build --build-context %s=%s …\n"+
		"  buildctl build --local %s=%s --opt context:%s=local:%s …\n"+
		"(envkit build passes it by itself)",
		lc.Pos, lc.URL, lc.Context, lc.Context, lc.Dir, lc.Context, lc.Dir, lc.Context, lc.Context)
}

// localChannels are the build's file:// channels, computed once.
func (b *build) localChannels(def *spec.Definition) ([]LocalChannel, error) {
	b.channelsOnce.Do(func() { b.channels, b.channelsErr = LocalChannels(def, b.opts.Channels) })
	return b.channels, b.channelsErr
}

// channelState loads a file:// channel's named context; only the paths
// in follow are transferred from a client directory.
func (b *build) channelState(ctx context.Context, lc LocalChannel, follow []string) (llb.State, error) {
	sort.Strings(follow)
	nc, err := b.bc.NamedContext(lc.Context, dockerui.ContextOpt{
		// A .dockerignore of the channel must not hide packages the lock
		// names.
		NoDockerignore: true,
		AsyncLocalOpts: func() []llb.LocalOption { return []llb.LocalOption{llb.FollowPaths(follow)} },
	})
	if err != nil {
		return llb.State{}, err
	}
	if nc == nil {
		return llb.State{}, missingContext(lc)
	}
	st, _, err := nc.Load(ctx)
	if err != nil {
		return llb.State{}, fmt.Errorf("%s: conda channel %s (context %s): %w", lc.Pos, lc.URL, lc.Context, err)
	}
	return *st, nil
}

// localArchives maps the packages with file:// URLs to the channel
// directories they come from, for llb.Options.LocalArchive: one named
// context per channel, transferring just the archives the build links.
// nil when no package needs one.
func (b *build) localArchives(ctx context.Context, def *spec.Definition, lk *buildplan.Locked) (func(string) (llb.State, string, bool), error) {
	type archive struct{ channel, file string }
	archives := map[string]archive{} // package URL -> where it is
	files := map[string][]string{}   // channel URL -> archives to transfer
	var lcs []LocalChannel
	for _, pkgs := range lk.Packages {
		for _, p := range pkgs {
			if !strings.HasPrefix(p.URL, "file:") {
				continue
			}
			if _, done := archives[p.URL]; done {
				continue
			}
			if lcs == nil {
				var err error
				if lcs, err = b.localChannels(def); err != nil {
					return nil, err
				}
			}
			lc, file, err := channelOf(p, lcs)
			if err != nil {
				return nil, err
			}
			archives[p.URL] = archive{lc.URL, file}
			files[lc.URL] = append(files[lc.URL], file)
		}
	}
	if len(archives) == 0 {
		return nil, nil
	}
	states := map[string]llb.State{}
	for _, lc := range lcs {
		if len(files[lc.URL]) == 0 {
			continue
		}
		st, err := b.channelState(ctx, lc, files[lc.URL])
		if err != nil {
			return nil, err
		}
		states[lc.URL] = st
	}
	return func(u string) (llb.State, string, bool) {
		a, ok := archives[u]
		if !ok {
			return llb.State{}, "", false
		}
		return states[a.channel], a.file, true
	}, nil
}

// channelOf finds the file:// channel whose directory holds a package's
// archive, and the archive's path in it.
func channelOf(p *repodata.Record, lcs []LocalChannel) (LocalChannel, string, error) {
	var locs []string
	for _, lc := range lcs {
		locs = append(locs, lc.URL)
		rest, ok := strings.CutPrefix(p.URL, lc.URL+"/")
		if !ok {
			continue
		}
		file, err := url.PathUnescape(rest)
		if err != nil || !fs.ValidPath(file) || file == "." {
			return LocalChannel{}, "", fmt.Errorf("%s: conda package %s: %s is not a file in channel %s", buildplan.LockFile, p, p.URL, lc.URL)
		}
		return lc, file, nil
	}
	if len(locs) == 0 {
		locs = []string{"it has none"}
	}
	return LocalChannel{}, "", fmt.Errorf("%s: conda package %s: %s is in none of the definition's file:// channels (%s): pass the ENVKIT_CHANNEL_MIRRORS the lock was made with as a build argument, or run envkit lock again", buildplan.LockFile, p, p.URL, strings.Join(locs, ", "))
}

// channelRepodata reads a file:// channel's repodata for the target
// subdirs and noarch from its named context, in one transfer per build.
// repodata.json.zst is read when repodata.json is missing, as envkit lock
// does for file:// channels.
func (b *build) channelRepodata(ctx context.Context, def *spec.Definition, location string) (gwclient.Reference, error) {
	b.repodataMu.Lock()
	defer b.repodataMu.Unlock()
	if ref, ok := b.repodataRefs[location]; ok {
		return ref, nil
	}
	lcs, err := b.localChannels(def)
	if err != nil {
		return nil, err
	}
	var lc *LocalChannel
	for i := range lcs {
		if lcs[i].URL == location {
			lc = &lcs[i]
		}
	}
	if lc == nil {
		return nil, fmt.Errorf("conda channel %s: not a file:// channel of the definition", location)
	}
	var follow []string
	seen := map[string]bool{}
	for _, p := range b.targets() {
		subdir, err := platform.Subdir(p)
		if err != nil {
			return nil, err
		}
		for _, sd := range []string{subdir, "noarch"} {
			if !seen[sd] {
				seen[sd] = true
				follow = append(follow, sd+"/repodata.json", sd+"/repodata.json.zst")
			}
		}
	}
	st, err := b.channelState(ctx, *lc, follow)
	if err != nil {
		return nil, err
	}
	d, err := st.Marshal(ctx)
	if err != nil {
		return nil, err
	}
	res, err := b.c.Solve(ctx, gwclient.SolveRequest{Definition: d.ToPB(), CacheImports: b.bc.CacheImports, Evaluate: true})
	if err != nil {
		return nil, fmt.Errorf("%s: conda channel %s: %w", lc.Pos, lc.URL, err)
	}
	ref, err := res.SingleRef()
	if err != nil {
		return nil, err
	}
	if b.repodataRefs == nil {
		b.repodataRefs = map[string]gwclient.Reference{}
	}
	b.repodataRefs[location] = ref
	return ref, nil
}
