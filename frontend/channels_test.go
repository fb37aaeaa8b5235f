package frontend

import (
	"context"
	"encoding/json"
	"os"
	"path"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/distribution/reference"
	"github.com/klauspost/compress/zstd"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	"github.com/moby/buildkit/solver/pb"

	"github.com/envkit/envkit/internal/buildplan"
	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/envkit/envkit/internal/conformance"
	"github.com/envkit/envkit/internal/spec"
)

const fileChannelURL = "file:///srv/test-recipes"

// fileRecipes are packages of test-recipes as a lock of the channel at
// fileChannelURL gives them.
func fileRecipes(t *testing.T, fns ...string) []*repodata.Record {
	recs := testRecipes(t, fns...)
	for _, r := range recs {
		r.Channel = fileChannelURL
		r.URL = fileChannelURL + "/noarch/" + r.Filename
	}
	return recs
}

// fileChannelGateway builds definition (whose channel is fileChannelURL)
// with the channel directory given as the named context, as buildx
// --build-context NAME=DIR and envkit build do; the directory holds
// test-recipes' noarch repodata (as repodata.json or only .zst) and its
// archives (their content does not matter to the frontend).
func fileChannelGateway(t *testing.T, definition string, lockData []byte, zst bool) *fakeGateway {
	t.Helper()
	name := ChannelContext(fileChannelURL)
	g := condaGateway(t, definition, lockData, map[string]string{"context:" + name: "local:" + name})
	dt, err := os.ReadFile(conformance.Dir(t, "channels", "test-recipes", "noarch", "repodata.json"))
	if err != nil {
		t.Fatal(err)
	}
	channel := fstest.MapFS{"noarch/repodata.json": {Data: dt, Mode: 0o644}}
	if zst {
		enc, err := zstd.NewWriter(nil)
		if err != nil {
			t.Fatal(err)
		}
		channel = fstest.MapFS{"noarch/repodata.json.zst": {Data: enc.EncodeAll(dt, nil), Mode: 0o644}}
	}
	for _, fn := range lockedRecipes {
		channel["noarch/"+fn] = &fstest.MapFile{Data: []byte(fn), Mode: 0o644}
	}
	g.locals[name] = channel
	return g
}

var fileChannelEnv = strings.Replace(condaEnv, "http://127.0.0.1:8000/test-recipes", fileChannelURL, 1)

// channelSource is the build's local source of the channel context and
// the paths it transfers.
func channelSource(t *testing.T, def *pb.Definition) (follow []string, others []string) {
	t.Helper()
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			t.Fatal(err)
		}
		src := op.GetSource()
		switch {
		case src == nil:
		case src.Identifier == "local://"+ChannelContext(fileChannelURL):
			if err := json.Unmarshal([]byte(src.Attrs[pb.AttrFollowPaths]), &follow); err != nil {
				t.Fatal(err)
			}
		default:
			others = append(others, src.Identifier)
		}
	}
	return follow, others
}

func TestBuildFileChannelFromLock(t *testing.T) {
	lockData := lockFor(t, fileChannelEnv, fileRecipes(t, lockedRecipes...))
	g := fileChannelGateway(t, fileChannelEnv, lockData, false)
	if _, err := Build(context.Background(), g); err != nil {
		t.Fatal(err)
	}
	if len(g.solves) != 1 {
		t.Fatalf("%d build solves, want 1", len(g.solves))
	}
	follow, others := channelSource(t, g.solves[0])
	var want []string
	for _, fn := range lockedRecipes {
		want = append(want, "noarch/"+fn)
	}
	slices.Sort(want)
	if !slices.Equal(follow, want) {
		t.Errorf("the channel context transfers %v, want just the locked archives %v", follow, want)
	}
	for _, src := range others {
		if strings.HasPrefix(src, "http") {
			t.Errorf("a package is downloaded over HTTP: %s", src)
		}
	}
	if len(g.fetched) != 0 {
		t.Errorf("HTTP reads %v, want none", g.fetched)
	}
}

// Without a lock the frontend reads the channel's repodata from the named
// context (repodata.json, else repodata.json.zst), solves, and builds
// exactly what a build from the lock envkit lock writes does.
func TestBuildFileChannelSolvesFromContext(t *testing.T) {
	locked := fileChannelGateway(t, fileChannelEnv, lockFor(t, fileChannelEnv, fileRecipes(t, lockedRecipes...)), false)
	if _, err := Build(context.Background(), locked); err != nil {
		t.Fatal(err)
	}
	for _, zst := range []bool{false, true} {
		g := fileChannelGateway(t, fileChannelEnv, nil, zst)
		if _, err := Build(context.Background(), g); err != nil {
			t.Fatalf("zst %v: %v", zst, err)
		}
		if len(g.fetched) != 0 {
			t.Errorf("zst %v: HTTP reads %v, want none", zst, g.fetched)
		}
		a, b := g.solves[0], locked.solves[0]
		if len(a.Def) != len(b.Def) {
			t.Fatalf("zst %v: %d ops solving, %d from the lock", zst, len(a.Def), len(b.Def))
		}
		for i := range a.Def {
			if string(a.Def[i]) != string(b.Def[i]) {
				t.Errorf("zst %v: op %d differs between the solved and the locked build", zst, i)
			}
		}
	}
}

func TestBuildFileChannelWithoutNoarch(t *testing.T) {
	g := fileChannelGateway(t, fileChannelEnv, nil, false)
	delete(g.locals[ChannelContext(fileChannelURL)], "noarch/repodata.json")
	_, err := Build(context.Background(), g)
	if err == nil || !strings.Contains(err.Error(), fileChannelURL+"/noarch/repodata.json: no such file: not a conda channel") {
		t.Errorf("error %v, want the missing noarch/repodata.json named", err)
	}
}

func TestBuildFileChannelLockFromElsewhere(t *testing.T) {
	recs := fileRecipes(t, lockedRecipes...)
	recs[0].URL = "file:///mnt/other/noarch/" + recs[0].Filename
	g := fileChannelGateway(t, fileChannelEnv, lockFor(t, fileChannelEnv, recs), false)
	_, err := Build(context.Background(), g)
	if err == nil || !strings.Contains(err.Error(), "file:///mnt/other/noarch/dependency-1.0-0.conda is in none of the definition's file:// channels ("+fileChannelURL+")") {
		t.Errorf("error %v, want the stray package URL named", err)
	}
}

func TestLocalChannels(t *testing.T) {
	def, err := spec.Parse("environment.yml", []byte(`conda:
  channels:
    - http://127.0.0.1:8000/test-recipes
    - file:///srv/a/conda-forge
    - /srv/b/conda-forge/
    - bioconda
  dependencies: [python]
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	lcs, err := LocalChannels(def, optionsOf(t, map[string]string{"ENVKIT_CHANNEL_MIRRORS": "bioconda=file:///mirror/bio%20conda"}).Channels)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, lc := range lcs {
		got = append(got, lc.Pos.String()+" "+lc.URL+" "+lc.Dir+" "+lc.Context)
	}
	want := []string{
		"environment.yml:4:7 file:///srv/a/conda-forge /srv/a/conda-forge " + ChannelContext("file:///srv/a/conda-forge"),
		"environment.yml:5:7 file:///srv/b/conda-forge /srv/b/conda-forge " + ChannelContext("file:///srv/b/conda-forge"),
		"environment.yml:6:7 file:///mirror/bio%20conda /mirror/bio conda " + ChannelContext("file:///mirror/bio%20conda"),
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("local channels:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if lcs[0].Context == lcs[1].Context {
		t.Errorf("two conda-forge directories share the context %s", lcs[0].Context)
	}
	if !strings.HasPrefix(lcs[2].Context, "conda-channel/bio-conda-") {
		t.Errorf("context %s, want it named after the directory", lcs[2].Context)
	}
}

// The documented recipe: the base name, then the first 8 hex digits of
// sha256 of the location (printf %s URL | sha256sum | cut -c1-8).
func TestChannelContextName(t *testing.T) {
	for loc, want := range map[string]string{
		"file:///srv/test-recipes":   "conda-channel/test-recipes-2da3baa5",
		"file:///srv/My_Channel.v2/": "conda-channel/my-channel-v2-",
		"file:///":                   "conda-channel/channel-",
	} {
		if got := ChannelContext(loc); !strings.HasPrefix(got, want) {
			t.Errorf("ChannelContext(%q) = %s, want %s…", loc, got, want)
		}
	}
}

// Every location gives a name dockerui accepts as a named context and
// keeps as it is (it normalizes names as image references).
func FuzzChannelContext(f *testing.F) {
	for _, s := range []string{"file:///srv/test-recipes", "file:///A B/Ç__x--y..z", "file:///", "file://localhost/x", "file:///" + strings.Repeat("a-", 200)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, loc string) {
		name := ChannelContext(loc)
		named, err := reference.ParseNormalizedNamed(name)
		if err != nil {
			t.Fatalf("ChannelContext(%q) = %q: %v", loc, name, err)
		}
		if got := reference.FamiliarString(named); got != name {
			t.Fatalf("ChannelContext(%q) = %q normalizes to %q", loc, name, got)
		}
		if path.Dir(name) != "conda-channel" {
			t.Fatalf("ChannelContext(%q) = %q", loc, name)
		}
	})
}

// A channel mirrored to a directory (ENVKIT_CHANNEL_MIRRORS as a build
// argument) is a file:// channel too: its archives come from the context
// named after the mirror's location.
func TestBuildChannelMirroredToADirectory(t *testing.T) {
	def := strings.Replace(condaEnv, "http://127.0.0.1:8000/test-recipes", "test-recipes", 1)
	g := fileChannelGateway(t, def, lockFor(t, def, fileRecipes(t, lockedRecipes...)), false)
	g.opts["build-arg:ENVKIT_CHANNEL_MIRRORS"] = "test-recipes=" + fileChannelURL
	if _, err := Build(context.Background(), g); err != nil {
		t.Fatal(err)
	}
	if follow, _ := channelSource(t, g.solves[0]); len(follow) != len(lockedRecipes) {
		t.Errorf("the mirror's context transfers %v, want the %d locked archives", follow, len(lockedRecipes))
	}

	// Without the mirror the lock's file:// URLs belong to no channel.
	g = fileChannelGateway(t, def, lockFor(t, def, fileRecipes(t, lockedRecipes...)), false)
	if _, err := Build(context.Background(), g); err == nil || !strings.Contains(err.Error(), "pass the ENVKIT_CHANNEL_MIRRORS the lock was made with") {
		t.Errorf("error %v, want the fix for a lock made with a mirror", err)
	}
}

// An image reused by its key needs no channel: the build without the
// channel's context succeeds when the key's tag exists.
func TestImageCacheHitNeedsNoChannelContext(t *testing.T) {
	lockData := lockFor(t, fileChannelEnv, fileRecipes(t, lockedRecipes...))
	first := fileChannelGateway(t, fileChannelEnv, lockData, false)
	res, err := Build(context.Background(), first)
	if err != nil {
		t.Fatal(err)
	}
	labels := imageOf(t, res, exptypes.ExporterImageConfigKey).Config.Labels
	key := buildplan.ImageKey(labels["dev.envkit.definition-hash"], labels["dev.envkit.lock-hash"], busyboxDigest, 0)

	g := condaGateway(t, fileChannelEnv, lockData, map[string]string{"build-arg:ENVKIT_IMAGE_CACHE": "127.0.0.1:5000/envs"})
	g.images["127.0.0.1:5000/envs:"+key] = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	if _, err := Build(context.Background(), g); err != nil {
		t.Fatalf("a reuse asked for the channel: %v", err)
	}
	if got := sources(t, g.solves[0]); len(got) != 1 || !strings.HasPrefix(got[0], "docker-image://127.0.0.1:5000/envs:"+key) {
		t.Errorf("sources %v, want only the reused image", got)
	}
}
