package frontend

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerui"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	gwpb "github.com/moby/buildkit/frontend/gateway/pb"
	"github.com/moby/buildkit/frontend/subrequests/outline"
	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/envkit/envkit/internal/buildplan"
	"github.com/envkit/envkit/internal/conda/lock"
	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/envkit/envkit/internal/conformance"
	"github.com/envkit/envkit/internal/hash"
	"github.com/envkit/envkit/internal/spec"
)

const (
	frontendImage  = "127.0.0.1:5000/envkit/frontend:test"
	frontendDigest = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	busyboxDigest  = "sha256:7b3ccabffc97de872a30dfd234fd972a66d247c8cfc69b0550f276481852627c"
)

const baseOnly = `# syntax=127.0.0.1:5000/envkit/frontend:test
name: tools
base:
  image: busybox:1.36
steps:
  - RUN echo hello > /hello
env:
  LANG: C.UTF-8
`

func newGateway(definition string, opts map[string]string) *fakeGateway {
	o := map[string]string{"filename": "environment.yml", "source": frontendImage}
	for k, v := range opts {
		o[k] = v
	}
	files := fstest.MapFS{"environment.yml": {Data: []byte(definition), Mode: 0o644}}
	return &fakeGateway{
		opts:   o,
		locals: map[string]fstest.MapFS{"dockerfile": files, "context": files},
		images: map[string]string{
			frontendImage:                    frontendDigest,
			"docker.io/library/busybox:1.36": busyboxDigest,
		},
		llbCaps: pb.Caps.CapSet(pb.Caps.All()),
		caps:    gwpb.Caps.CapSet(gwpb.Caps.All()),
	}
}

func imageOf(t *testing.T, res *gwclient.Result, key string) dockerspec.DockerOCIImage {
	t.Helper()
	var img dockerspec.DockerOCIImage
	if err := json.Unmarshal(res.Metadata[key], &img); err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	return img
}

// sources lists the source identifiers of a solved definition.
func sources(t *testing.T, def *pb.Definition) []string {
	t.Helper()
	var out []string
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			t.Fatal(err)
		}
		if src := op.GetSource(); src != nil {
			out = append(out, src.Identifier)
		}
	}
	return out
}

func TestBuildBaseImageWithSteps(t *testing.T) {
	g := newGateway(baseOnly, nil)
	res, err := Build(context.Background(), g)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.solves) != 1 {
		t.Fatalf("%d build solves, want 1", len(g.solves))
	}
	if got := sources(t, g.solves[0]); len(got) != 1 || got[0] != "docker-image://docker.io/library/busybox:1.36@"+busyboxDigest {
		t.Errorf("sources %v, want the base pinned by digest", got)
	}
	img := imageOf(t, res, exptypes.ExporterImageConfigKey)
	def, err := spec.Parse("environment.yml", []byte(baseOnly), nil)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := hash.Of(def)
	if got := img.Config.Labels["dev.envkit.definition-hash"]; got != want {
		t.Errorf("definition-hash label %q, want %q", got, want)
	}
	if !contains(img.Config.Env, "LANG=C.UTF-8") {
		t.Errorf("env %v lacks LANG", img.Config.Env)
	}
	if img.Created == nil || img.Created.Unix() != 0 {
		t.Errorf("created %v, want the epoch 0", img.Created)
	}
}

func TestBuildEpochFromBuildArg(t *testing.T) {
	g := newGateway(baseOnly, map[string]string{"build-arg:SOURCE_DATE_EPOCH": "1700000000"})
	res, err := Build(context.Background(), g)
	if err != nil {
		t.Fatal(err)
	}
	if img := imageOf(t, res, exptypes.ExporterImageConfigKey); img.Created == nil || img.Created.Unix() != 1700000000 {
		t.Errorf("created %v, want 1700000000", img.Created)
	}
	bad := newGateway(baseOnly, map[string]string{"build-arg:SOURCE_DATE_EPOCH": "yesterday"})
	if _, err := Build(context.Background(), bad); err == nil || !strings.Contains(err.Error(), "SOURCE_DATE_EPOCH") {
		t.Errorf("error %v, want one about SOURCE_DATE_EPOCH", err)
	}
}

func TestBuildMultiPlatform(t *testing.T) {
	g := newGateway(baseOnly, map[string]string{"platform": "linux/amd64,linux/arm64"})
	res, err := Build(context.Background(), g)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.solves) != 2 {
		t.Fatalf("%d solves, want one per platform", len(g.solves))
	}
	for _, id := range []string{"linux/amd64", "linux/arm64"} {
		if _, ok := res.Refs[id]; !ok {
			t.Errorf("no result for %s", id)
		}
		img := imageOf(t, res, exptypes.ExporterImageConfigKey+"/"+id)
		if img.OS+"/"+img.Architecture != id {
			t.Errorf("%s config is for %s/%s", id, img.OS, img.Architecture)
		}
	}
}

func TestBuildInvalidDefinitionPointsAtTheLine(t *testing.T) {
	g := newGateway("base:\n  image: busybox\nsteps: 12\n", nil)
	_, err := Build(context.Background(), g)
	if err == nil || !strings.HasPrefix(err.Error(), "environment.yml:3:") {
		t.Errorf("error %v, want one at environment.yml:3", err)
	}
	if len(g.solves) != 0 {
		t.Errorf("%d solves for an invalid definition", len(g.solves))
	}
}

func TestBuildRefusesPip(t *testing.T) {
	g := newGateway("base:\n  image: busybox:1.36\npip:\n  - requests==2.31.0\n", nil)
	_, err := Build(context.Background(), g)
	if err == nil || !strings.Contains(err.Error(), "environment.yml:4:") || !strings.Contains(err.Error(), "add python to the conda dependencies") {
		t.Errorf("error %v, want pip without conda refused at environment.yml:4", err)
	}
}

// A lookup the registry refuses (credentials, reachability) fails the
// build, naming the key and what to check; only a missing image is a miss.
func TestImageCacheLookupErrorIsReported(t *testing.T) {
	def, err := spec.Parse("environment.yml", []byte(baseOnly), nil)
	if err != nil {
		t.Fatal(err)
	}
	defHash, _ := hash.Of(def)
	ref := "127.0.0.1:5000/envs:" + buildplan.ImageKey(defHash, "", busyboxDigest, 0)
	g := newGateway(baseOnly, map[string]string{"build-arg:ENVKIT_IMAGE_CACHE": "127.0.0.1:5000/envs"})
	g.resolveErr = map[string]error{ref: errors.New("failed to authorize: failed to fetch oauth token: unexpected status: 401 Unauthorized")}
	_, err = Build(context.Background(), g)
	if err == nil || !strings.Contains(err.Error(), "looking up the image key "+ref) || !strings.Contains(err.Error(), "401 Unauthorized") || !strings.Contains(err.Error(), "credentials") {
		t.Errorf("error %v, want the lookup of %s and the registry's answer", err, ref)
	}
	if len(g.solves) != 0 {
		t.Errorf("%d solves after a refused lookup", len(g.solves))
	}
}

func TestImageCacheHitRunsNoStep(t *testing.T) {
	def, err := spec.Parse("environment.yml", []byte(baseOnly), nil)
	if err != nil {
		t.Fatal(err)
	}
	defHash, _ := hash.Of(def)
	key := buildplan.ImageKey(defHash, "", busyboxDigest, 0)
	cached := "127.0.0.1:5000/envs:" + key
	g := newGateway(baseOnly, map[string]string{"build-arg:ENVKIT_IMAGE_CACHE": "127.0.0.1:5000/envs"})
	g.images[cached] = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	if _, err := Build(context.Background(), g); err != nil {
		t.Fatal(err)
	}
	if len(g.solves) != 1 {
		t.Fatalf("%d solves, want 1", len(g.solves))
	}
	if got := sources(t, g.solves[0]); len(got) != 1 || !strings.HasPrefix(got[0], "docker-image://"+cached+"@") {
		t.Errorf("sources %v, want only the cached image", got)
	}
	if g.evaluate[0] {
		t.Error("the reused image was evaluated in the frontend; it stays lazy")
	}

	// A miss builds.
	miss := newGateway(baseOnly, map[string]string{"build-arg:ENVKIT_IMAGE_CACHE": "127.0.0.1:5000/envs"})
	if _, err := Build(context.Background(), miss); err != nil {
		t.Fatal(err)
	}
	if got := sources(t, miss.solves[0]); len(got) != 1 || !strings.Contains(got[0], "busybox") {
		t.Errorf("a miss solved %v, want the build on busybox", got)
	}
	if !miss.evaluate[0] {
		t.Error("the build was not evaluated in the frontend: a failed step would not be named")
	}
	n := 0
	for _, r := range miss.resolved {
		if strings.Contains(r, "busybox") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the base was resolved %d times, want once for the key and the build", n)
	}
}

func TestLintSubrequest(t *testing.T) {
	def := "base:\n  image: busybox\nconda:\n  dependencies:\n    - numpy\n"
	g := newGateway(def, map[string]string{"requestid": "frontend.lint"})
	res, err := Build(context.Background(), g)
	if err != nil {
		t.Fatal(err)
	}
	out := string(res.Metadata["result.txt"])
	for _, want := range []string{"environment.yml:2", "environment.yml:5"} {
		if !strings.Contains(out, want) {
			t.Errorf("lint output lacks %s:\n%s", want, out)
		}
	}
	if len(g.solves) != 0 {
		t.Errorf("lint ran %d solves", len(g.solves))
	}
}

func TestDescribeSubrequest(t *testing.T) {
	g := newGateway(baseOnly, map[string]string{"requestid": "frontend.subrequests.describe"})
	res, err := Build(context.Background(), g)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"frontend.lint", "frontend.outline"} {
		if !strings.Contains(string(res.Metadata["result.json"]), want) {
			t.Errorf("describe lacks %s: %s", want, res.Metadata["result.json"])
		}
	}
}

// The frontend image's Dockerfile must build with nothing pulled when the
// binary is prebuilt: the conversion may not ask for any image.
func TestDockerfileBuildsOffline(t *testing.T) {
	dt, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	p := ocispecs.Platform{OS: "linux", Architecture: "amd64"}
	res, err := dockerfile2llb.Dockerfile2LLB(context.Background(), dt, dockerfile2llb.ConvertOpt{
		Config:         dockerui.Config{BuildArgs: map[string]string{"ENVKIT_BINARY": "prebuilt"}},
		TargetPlatform: &p,
		MetaResolver:   noRegistry{t},
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := res.Image.Config
	if strings.Join(cfg.Entrypoint, " ") != "/envkit frontend" {
		t.Errorf("entrypoint %v", cfg.Entrypoint)
	}
	if cfg.Labels["moby.buildkit.frontend.network.none"] != "true" || !strings.Contains(cfg.Labels["moby.buildkit.frontend.caps"], "moby.buildkit.frontend.subrequests") {
		t.Errorf("frontend labels missing: %v", cfg.Labels)
	}
	def, err := res.State.Marshal(context.Background(), llb.Platform(p))
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range sources(t, def.ToPB()) {
		if strings.HasPrefix(src, "docker-image://") {
			t.Errorf("the prebuilt image pulls %s", src)
		}
	}
}

type noRegistry struct{ t *testing.T }

func (r noRegistry) ResolveImageConfig(_ context.Context, ref string, _ sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	r.t.Errorf("resolved %s: the build would need a registry", ref)
	return "", "", nil, os.ErrNotExist
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

const condaEnv = `base:
  image: busybox:1.36
conda:
  channels:
    - http://127.0.0.1:8000/test-recipes
  dependencies:
    - post_link-c
    - dependent=1.0
`

// testRecipes reads packages of the conformance channel test-recipes, as
// served on 127.0.0.1.
func testRecipes(t *testing.T, fns ...string) []*repodata.Record {
	t.Helper()
	dt, err := os.ReadFile(conformance.Dir(t, "channels", "test-recipes", "noarch", "repodata.json"))
	if err != nil {
		t.Fatal(err)
	}
	rd, err := repodata.Parse("http://127.0.0.1:8000/test-recipes", "noarch", dt)
	if err != nil {
		t.Fatal(err)
	}
	var out []*repodata.Record
	for _, fn := range fns {
		found := false
		for i := range rd.Records {
			if rd.Records[i].Filename == fn {
				out = append(out, &rd.Records[i])
				found = true
			}
		}
		if !found {
			t.Fatalf("%s not in test-recipes", fn)
		}
	}
	return out
}

// lockFor writes the lock envkit lock would write for definition.
func lockFor(t testing.TB, definition string, records []*repodata.Record) []byte {
	t.Helper()
	def, err := spec.Parse("environment.yml", []byte(definition), nil)
	if err != nil {
		t.Fatal(err)
	}
	in := buildplan.LockInputs(def, buildplan.Options{})
	lk := &lock.Lock{
		Metadata: lock.Metadata{
			ContentHash: map[string]string{"linux-64": lock.ContentHash(in, "linux-64")},
			Channels:    []lock.Channel{{URL: "http://127.0.0.1:8000/test-recipes"}},
			Platforms:   []string{"linux-64"},
			Sources:     []string{"environment.yml"},
		},
		Packages: lock.FromRecords("linux-64", records),
	}
	dt, err := lk.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return dt
}

func condaGateway(t testing.TB, definition string, lockData []byte, opts map[string]string) *fakeGateway {
	g := newGateway(definition, opts)
	if lockData != nil {
		g.locals["context"]["conda-lock.yml"] = &fstest.MapFile{Data: lockData, Mode: 0o644}
	}
	return g
}

var lockedRecipes = []string{"dependency-1.0-0.conda", "dependent-1.0-0.conda", "post_link-b-1.0-0.conda", "post_link-c-1.0-0.conda"}

func TestBuildCondaFromLock(t *testing.T) {
	lockData := lockFor(t, condaEnv, testRecipes(t, lockedRecipes...))
	g := condaGateway(t, condaEnv, lockData, nil)
	res, err := Build(context.Background(), g)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.solves) != 1 {
		t.Fatalf("%d solves, want 1", len(g.solves))
	}
	srcs := strings.Join(sources(t, g.solves[0]), "\n")
	for _, want := range []string{
		"docker-image://" + frontendImage + "@" + frontendDigest,
		"http://127.0.0.1:8000/test-recipes/noarch/post_link-c-1.0-0.conda",
		"http://127.0.0.1:8000/test-recipes/noarch/dependency-1.0-0.conda",
	} {
		if !strings.Contains(srcs, want) {
			t.Errorf("sources lack %s:\n%s", want, srcs)
		}
	}
	img := imageOf(t, res, exptypes.ExporterImageConfigKey)
	if !contains(img.Config.Env, "CONDA_PREFIX=/opt/conda") || !strings.HasPrefix(img.Config.Env[0], "PATH=/opt/conda/bin:") {
		t.Errorf("env %v: want conda's bin first on PATH and CONDA_PREFIX", img.Config.Env)
	}
	if got := img.Config.Labels["dev.envkit.lock-hash"]; !strings.HasPrefix(got, "sha256:") {
		t.Errorf("lock-hash label %q", got)
	}
}

func TestBuildCondaLinkBinaryInProcess(t *testing.T) {
	lockData := lockFor(t, condaEnv, testRecipes(t, lockedRecipes...))
	g := condaGateway(t, condaEnv, lockData, map[string]string{"source": "", OptLinkBinary: "local"})
	if _, err := Build(context.Background(), g); err != nil {
		t.Fatal(err)
	}
	if srcs := strings.Join(sources(t, g.solves[0]), "\n"); !strings.Contains(srcs, "local://"+LocalLinkBinary) {
		t.Errorf("the link binary is not the local input:\n%s", srcs)
	}
}

func TestBuildCondaLockProblems(t *testing.T) {
	stale := lockFor(t, strings.Replace(condaEnv, "dependent=1.0", "dependent=2.0", 1), testRecipes(t, lockedRecipes...))
	cases := []struct {
		name string
		lock []byte
		opts map[string]string
		want string
	}{
		{"stale lock", stale, nil, "conda-lock.yml: stale for linux-64"},
		{"platform not locked", lockFor(t, condaEnv, testRecipes(t, lockedRecipes...)), map[string]string{"platform": "linux/arm64"}, "not locked for linux-aarch64"},
		{"bad lock", []byte("version: 1\npackage: {}\n"), nil, "conda-lock.yml:"},
		{"no link binary", lockFor(t, condaEnv, testRecipes(t, lockedRecipes...)), map[string]string{"source": ""}, "envkit-bin=local"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := condaGateway(t, condaEnv, tc.lock, tc.opts)
			_, err := Build(context.Background(), g)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
			if len(g.solves) != 0 {
				t.Errorf("%d solves despite the error", len(g.solves))
			}
		})
	}
}

// testRecipesChannel serves the conformance channel test-recipes (noarch
// only: its linux-64 answers 404, as a channel without that subdir does).
func testRecipesChannel(t testing.TB, g *fakeGateway) {
	dt, err := os.ReadFile(conformance.Dir(t, "channels", "test-recipes", "noarch", "repodata.json"))
	if err != nil {
		t.Fatal(err)
	}
	g.http = map[string][]byte{"http://127.0.0.1:8000/test-recipes/noarch/repodata.json": dt}
}

func TestBuildSolvesWithoutLock(t *testing.T) {
	g := condaGateway(t, condaEnv, nil, nil)
	testRecipesChannel(t, g)
	res, err := Build(context.Background(), g)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.fetched) != 1 {
		t.Errorf("repodata read back: %v, want the channel's noarch", g.fetched)
	}
	srcs := strings.Join(sources(t, g.solves[0]), "\n")
	for _, fn := range lockedRecipes {
		if !strings.Contains(srcs, "http://127.0.0.1:8000/test-recipes/noarch/"+fn) {
			t.Errorf("the solved build lacks %s:\n%s", fn, srcs)
		}
	}
	// The solution is keyed like the lock envkit lock would write.
	if got := imageOf(t, res, exptypes.ExporterImageConfigKey).Config.Labels["dev.envkit.lock-hash"]; !strings.HasPrefix(got, "sha256:") {
		t.Errorf("lock-hash label %q", got)
	}
}

func TestBuildUnsatisfiableSpecSaysWhich(t *testing.T) {
	def := strings.Replace(condaEnv, "dependent=1.0", "unsatisfiable", 1)
	g := condaGateway(t, def, nil, nil)
	testRecipesChannel(t, g)
	_, err := Build(context.Background(), g)
	if err == nil || !strings.HasPrefix(err.Error(), "environment.yml:4:3: environment.yml (linux-64): ") || !strings.Contains(err.Error(), "versioned") {
		t.Errorf("error %v, want the conda part's position and the conflict", err)
	}
	if len(g.solves) != 0 {
		t.Errorf("%d build solves for an unsatisfiable environment", len(g.solves))
	}
}

// A file:// channel whose named context the build was not given fails,
// with or without a lock, before any build solve, naming the exact flags.
func TestBuildFileChannelWithoutItsContext(t *testing.T) {
	def := strings.Replace(condaEnv, "http://127.0.0.1:8000/test-recipes", fileChannelURL, 1)
	name := ChannelContext(fileChannelURL)
	for _, lockData := range [][]byte{nil, lockFor(t, def, fileRecipes(t, lockedRecipes...))} {
		g := condaGateway(t, def, lockData, nil)
		_, err := Build(context.Background(), g)
		if err == nil {
			t.Fatal("built without the channel's context")
		}
		for _, want := range []string{
			"environment.yml:5:7: conda channel " + fileChannelURL,
			"docker buildx build --build-context " + name + "=/srv/test-recipes",
			"buildctl build --local " + name + "=/srv/test-recipes --opt context:" + name + "=local:" + name,
			"envkit build passes it by itself",
		} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("lock %v: error lacks %q:\n%v", lockData != nil, want, err)
			}
		}
		if len(g.solves) != 0 {
			t.Errorf("%d build solves despite the error", len(g.solves))
		}
	}
}

// A build from the lock and a build that solves the same packages in the
// frontend submit the same LLB: every layer is shared, the image is the
// same, and so is the image key.
func TestLockAndFrontendSolveGiveTheSameBuild(t *testing.T) {
	solving := condaGateway(t, condaEnv, nil, nil)
	testRecipesChannel(t, solving)
	if _, err := Build(context.Background(), solving); err != nil {
		t.Fatal(err)
	}
	locked := condaGateway(t, condaEnv, lockFor(t, condaEnv, testRecipes(t, lockedRecipes...)), nil)
	if _, err := Build(context.Background(), locked); err != nil {
		t.Fatal(err)
	}
	a, b := solving.solves[0], locked.solves[0]
	if len(a.Def) != len(b.Def) {
		t.Fatalf("%d ops solving, %d from the lock", len(a.Def), len(b.Def))
	}
	for i := range a.Def {
		if string(a.Def[i]) != string(b.Def[i]) {
			t.Errorf("op %d differs between the solved and the locked build", i)
		}
	}
}

// --call outline lists every build argument envkit reads (buildplan.Args),
// with the base image the build would use.
func TestOutlineListsEveryBuildArg(t *testing.T) {
	g := newGateway(condaFile, map[string]string{"requestid": "frontend.outline", "build-arg:" + buildplan.ArgPackageLayers: "5"})
	res, err := Build(context.Background(), g)
	if err != nil {
		t.Fatal(err)
	}
	var o outline.Outline
	if err := json.Unmarshal(res.Metadata["result.json"], &o); err != nil {
		t.Fatalf("%v: %s", err, res.Metadata["result.json"])
	}
	got := map[string]string{}
	for _, a := range o.Args {
		got[a.Name] = a.Value
	}
	for _, a := range buildplan.Args {
		if _, ok := got[a.Name]; !ok {
			t.Errorf("outline lacks %s: %+v", a.Name, o.Args)
		}
	}
	if got[buildplan.ArgBaseImage] != "docker.io/library/debian:bookworm-slim" || got[buildplan.ArgPackageLayers] != "5" {
		t.Errorf("outline values %v", got)
	}
}
