package llb

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/envkit/envkit/internal/conformance"
	"github.com/envkit/envkit/internal/platform"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

var (
	amd64 = ocispecs.Platform{OS: "linux", Architecture: "amd64"}
	arm64 = ocispecs.Platform{OS: "linux", Architecture: "arm64"}
)

const (
	busyboxRef  = "docker.io/library/busybox:1.36@sha256:7b3ccabffc97de872a30dfd234fd972a66d247c8cfc69b0550f276481852627c"
	debianRef   = "docker.io/library/debian:12@sha256:b8084b1a576c5504a031936e1132574f4ce1d6cc7130bbcc25a28f074539ae6b"
	frontendRef = "127.0.0.1:5000/envkit/frontend@sha256:1111111111111111111111111111111111111111111111111111111111111111"
	channelURL  = "http://127.0.0.1:8000/test-recipes"
)

// imageConfig is a registry-style config for a one-layer base image.
func imageConfig(p ocispecs.Platform, layer string) dockerspec.DockerOCIImage {
	var img dockerspec.DockerOCIImage
	img.OS, img.Architecture = p.OS, p.Architecture
	img.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	img.Config.Cmd = []string{"sh"}
	img.Config.WorkingDir = "/"
	img.RootFS = ocispecs.RootFS{Type: "layers", DiffIDs: []digest.Digest{digest.FromString(layer)}}
	created := time.Date(2024, 5, 18, 0, 0, 0, 0, time.UTC)
	img.Created = &created
	img.History = []ocispecs.History{{Created: &created, CreatedBy: "ADD " + layer + " /"}}
	return img
}

// staticResolver answers image config lookups from a fixed table, the way
// a registry would, with no network.
type staticResolver map[string]string // normalized name:tag -> pinned ref

func (r staticResolver) ResolveImageConfig(_ context.Context, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	for name, pinned := range r {
		if sameRef(ref, name) {
			p := amd64
			if opt.ImageOpt != nil && opt.ImageOpt.Platform != nil {
				p = *opt.ImageOpt.Platform
			}
			dt, err := json.Marshal(imageConfig(p, name))
			_, dgst, _ := strings.Cut(pinned, "@")
			return ref, digest.Digest(dgst), dt, err
		}
	}
	return "", "", nil, fmt.Errorf("%s: not found", ref)
}

func linkBinary(p ocispecs.Platform) llb.State {
	return llb.Image(frontendRef, llb.Platform(p))
}

func baseOptions(p ocispecs.Platform) Options {
	return Options{
		Platform:      p,
		BuildPlatform: amd64,
		Base:          ResolvedImage{Ref: busyboxRef, Config: imageConfig(p, "busybox")},
		MetaResolver:  staticResolver{"busybox:1.36": busyboxRef, "debian:12": debianRef},
		LinkBinary:    linkBinary,
		Epoch:         time.Unix(0, 0),
		Version:       "v0.1.0-test",
	}
}

// testRecipes reads the named packages from the conformance channel
// test-recipes (real conda-build packages), as a lock would pin them.
func testRecipes(t testing.TB, fns ...string) []*repodata.Record {
	t.Helper()
	dt, err := os.ReadFile(conformance.Dir(t, "channels", "test-recipes", "noarch", "repodata.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rd struct {
		Packages      map[string]*repodata.Record `json:"packages"`
		PackagesConda map[string]*repodata.Record `json:"packages.conda"`
	}
	if err := json.Unmarshal(dt, &rd); err != nil {
		t.Fatal(err)
	}
	var out []*repodata.Record
	for _, fn := range fns {
		r := rd.PackagesConda[fn]
		if r == nil {
			r = rd.Packages[fn]
		}
		if r == nil {
			t.Fatalf("%s not in test-recipes", fn)
		}
		c := *r
		c.Filename, c.URL, c.Channel = fn, channelURL+"/noarch/"+fn, channelURL
		out = append(out, &c)
	}
	return out
}

var lockedPackages = []string{
	"python-3.99.99-0.conda",
	"sample_noarch_python-1.0-py_0.conda",
	"dependency-1.0-0.conda",
	"dependent-1.0-0.conda",
	"post_link-b-1.0-0.conda",
	"post_link-c-1.0-0.conda",
}

func TestGolden(t *testing.T) {
	dockerfile := []byte("FROM busybox:1.36 AS tools\nRUN echo built > /built\n\nFROM debian:12\nCOPY --from=tools /built /built\nENV LANG=C.UTF-8\n")
	cases := []struct {
		name      string
		env       Environment
		platforms []ocispecs.Platform
		options   func(*Options)
	}{
		{name: "base-image", env: Environment{
			BaseImage: "busybox:1.36", Prefix: "/opt/conda",
			Env:            []EnvVar{{"LANG", "C.UTF-8"}, {"PATH", "/custom/bin:/usr/bin:/bin"}},
			DefinitionHash: "sha256:" + strings.Repeat("a", 64),
		}},
		{name: "base-steps", env: Environment{
			BaseImage: "busybox:1.36", Prefix: "/opt/conda",
			Steps: []string{"RUN echo hello > /hello", "WORKDIR /work", "COPY environment.yml /work/"},
		}},
		{name: "dockerfile-base", env: Environment{
			BaseDockerfile: dockerfile, BaseDockerfileName: "base.Dockerfile", Prefix: "/opt/conda",
			Steps: []string{"RUN touch /step"},
		}},
		{name: "conda-lock", env: Environment{
			BaseImage: "busybox:1.36", Prefix: "/opt/conda",
			Packages:       testRecipes(t, lockedPackages...),
			DefinitionHash: "sha256:" + strings.Repeat("a", 64),
			LockHash:       strings.Repeat("b", 64),
		}},
		{name: "conda-file-channel", env: Environment{
			BaseImage: "busybox:1.36", Prefix: "/opt/conda",
			Packages: fileChannel(testRecipes(t, "dependency-1.0-0.conda", "dependent-1.0-0.conda")),
		}, options: func(o *Options) {
			o.LocalArchive = localChannel("noarch/dependency-1.0-0.conda", "noarch/dependent-1.0-0.conda")
		}},
		// Beyond the layer budget: groups of packages linked in one step
		// each, two of them from a file:// channel.
		{name: "conda-grouped", env: Environment{
			BaseImage: "busybox:1.36", Prefix: "/opt/conda",
			Packages: append(testRecipes(t, "python-3.99.99-0.conda", "sample_noarch_python-1.0-py_0.conda",
				"post_link-b-1.0-0.conda", "post_link-c-1.0-0.conda", "small-executable-1.0-0.conda"),
				fileChannel(testRecipes(t, "dependency-1.0-0.conda", "dependent-1.0-0.conda"))...),
		}, options: func(o *Options) {
			o.PackageLayers = 3
			o.LocalArchive = localChannel("noarch/dependency-1.0-0.conda", "noarch/dependent-1.0-0.conda")
		}},
		// A lock without sizes (conda-lock's, or envkit's before it wrote
		// them) beyond the budget: hash groups only, the LLB of before.
		{name: "conda-grouped-unsized", env: Environment{
			BaseImage: "busybox:1.36", Prefix: "/opt/conda",
			Packages: unsized(testRecipes(t, "python-3.99.99-0.conda", "sample_noarch_python-1.0-py_0.conda",
				"post_link-b-1.0-0.conda", "post_link-c-1.0-0.conda", "small-executable-1.0-0.conda", "dependency-1.0-0.conda", "dependent-1.0-0.conda")),
		}, options: func(o *Options) { o.PackageLayers = 4 }},
		// The same with sizes: the largest package (small-executable,
		// 4746 bytes) has a layer of its own, the others share 3.
		{name: "conda-grouped-sized", env: Environment{
			BaseImage: "busybox:1.36", Prefix: "/opt/conda",
			Packages: testRecipes(t, "python-3.99.99-0.conda", "sample_noarch_python-1.0-py_0.conda",
				"post_link-b-1.0-0.conda", "post_link-c-1.0-0.conda", "small-executable-1.0-0.conda", "dependency-1.0-0.conda", "dependent-1.0-0.conda"),
		}, options: func(o *Options) { o.PackageLayers = 4 }},
		{name: "multi-platform", platforms: []ocispecs.Platform{amd64, arm64}, env: Environment{
			BaseImage: "busybox:1.36", Prefix: "/opt/conda",
			Steps:    []string{"RUN echo hello > /hello"},
			Packages: testRecipes(t, "dependency-1.0-0.conda", "dependent-1.0-0.conda"),
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			platforms := tc.platforms
			if platforms == nil {
				platforms = []ocispecs.Platform{amd64}
			}
			var got strings.Builder
			for _, p := range platforms {
				opts := baseOptions(p)
				opts.MultiPlatform = len(platforms) > 1
				if tc.options != nil {
					tc.options(&opts)
				}
				_, text, cfg := goldenBuild(t, tc.env, opts)
				fmt.Fprintf(&got, "=== %s LLB\n%s=== %s image config\n%s\n", platform.Format(p), text, platform.Format(p), cfg)
			}
			compareGolden(t, filepath.Join("testdata", tc.name+".golden"), got.String())
		})
	}
}

const fileChannelURL = "file:///srv/test-recipes"

// unsized drops the packages' sizes, as a lock without them gives.
func unsized(pkgs []*repodata.Record) []*repodata.Record {
	for _, p := range pkgs {
		p.Size = 0
	}
	return pkgs
}

// fileChannel moves packages to a file:// channel, as a lock of one says.
func fileChannel(pkgs []*repodata.Record) []*repodata.Record {
	for _, p := range pkgs {
		p.Channel = fileChannelURL
		p.URL = fileChannelURL + "/noarch/" + p.Filename
	}
	return pkgs
}

// localChannel serves fileChannelURL from one local input holding the
// given archives, as the frontend does with the channel's named context.
func localChannel(files ...string) func(string) (llb.State, string, bool) {
	dir := llb.Local("conda-channel/test-recipes-0123abcd", llb.FollowPaths(files))
	return func(url string) (llb.State, string, bool) {
		file, ok := strings.CutPrefix(url, fileChannelURL+"/")
		if !ok {
			return llb.State{}, "", false
		}
		return dir, file, true
	}
}

// goldenBuild builds env for opts.Platform and returns the result with
// its LLB rendered as text and its image config indented: what the golden
// files hold.
func goldenBuild(t *testing.T, env Environment, opts Options) (res *Result, llbText string, imageConfig []byte) {
	t.Helper()
	res, err := Build(context.Background(), env, opts)
	if err != nil {
		t.Fatal(err)
	}
	// A fixed unique ID for the build context keeps the golden bytes
	// stable (BuildKit picks a random one per process).
	def, err := res.State.Marshal(context.Background(), llb.Platform(opts.Platform), llb.LocalUniqueID("golden"))
	if err != nil {
		t.Fatal(err)
	}
	llbText, err = render(def)
	if err != nil {
		t.Fatal(err)
	}
	imageConfig, err = json.MarshalIndent(res.Image, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return res, llbText, imageConfig
}

func compareGolden(t *testing.T, file, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (run go test -update and review the diff):\n%s", file, lineDiff(string(want), got))
	}
}

// lineDiff lists the lines that differ, enough to see what moved.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n- %s\n+ %s\n", i+1, wl, gl)
		}
	}
	return b.String()
}

// buildVertices builds env for opts.Platform and returns its marshalled
// vertices.
func buildVertices(t *testing.T, env Environment, opts Options) []vertex {
	t.Helper()
	res, err := Build(context.Background(), env, opts)
	if err != nil {
		t.Fatal(err)
	}
	def, err := res.State.Marshal(context.Background(), llb.Platform(opts.Platform))
	if err != nil {
		t.Fatal(err)
	}
	vs, err := vertices(def)
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

// opDigests marshals env and returns its vertices' digests by name.
func opDigests(t *testing.T, env Environment, opts Options) map[digest.Digest]string {
	t.Helper()
	vs := buildVertices(t, env, opts)
	out := map[digest.Digest]string{}
	for _, v := range vs {
		out[v.Digest] = v.Name
	}
	return out
}

// changedVertices lists the names of b's vertices that a does not have.
func changedVertices(a, b map[digest.Digest]string) []string {
	var names []string
	for d, name := range b {
		if _, ok := a[d]; !ok {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// A new version of one package changes that package's download and link
// and the steps that need the whole environment, and nothing else: every
// other package's layer keeps its cache key.
func TestChangingOnePackageChangesOnlyItsVertices(t *testing.T) {
	env := Environment{BaseImage: "busybox:1.36", Prefix: "/opt/conda", Packages: testRecipes(t, lockedPackages...)}
	before := opDigests(t, env, baseOptions(amd64))

	changed := env
	changed.Packages = testRecipes(t, "python-3.99.99-0.conda", "sample_noarch_python-1.0-py_0.conda",
		"dependency-2.0-0.conda", "dependent-1.0-0.conda", "post_link-b-1.0-0.conda", "post_link-c-1.0-0.conda")
	after := opDigests(t, changed, baseOptions(amd64))

	want := []string{
		"", // the definition's terminal vertex
		"[conda 1/6] download dependency 2.0",
		"[conda 1/6] link dependency 2.0",
		"[conda] finalize environment (post-link scripts, .pyc, history)",
		"[conda] merge 6 package layers",
	}
	if got := changedVertices(before, after); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("changed vertices:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A package's link step does not depend on the base, the other packages or
// the target platform, so environments share it.
func TestPackageLayerIsSharedAcrossEnvironments(t *testing.T) {
	pkgs := testRecipes(t, "dependency-1.0-0.conda")
	a := opDigests(t, Environment{BaseImage: "busybox:1.36", Prefix: "/opt/conda", Packages: pkgs}, baseOptions(amd64))
	optsB := baseOptions(arm64)
	optsB.Base = ResolvedImage{Ref: debianRef, Config: imageConfig(arm64, "debian")}
	b := opDigests(t, Environment{BaseImage: "debian:12", Prefix: "/opt/conda", Steps: []string{"RUN true"},
		Packages: testRecipes(t, "dependency-1.0-0.conda", "versioned-1.0-0.conda")}, optsB)
	shared := 0
	for d, name := range a {
		if _, ok := b[d]; ok && strings.HasSuffix(name, "dependency 1.0") {
			shared++
		}
	}
	if shared != 2 {
		t.Errorf("download and link of dependency 1.0 shared by %d vertices, want 2", shared)
	}
}

// A noarch: python package is linked and compiled on the python runtime,
// by each target platform's python: in a multi-platform build its link
// step is one per platform, named with it, while the other packages' link
// steps stay one op for every platform; a new python reruns it.
func TestNoarchPythonLinkPerPlatform(t *testing.T) {
	env := Environment{BaseImage: "busybox:1.36", Prefix: "/opt/conda", Packages: testRecipes(t, lockedPackages...)}
	a, b := baseOptions(amd64), baseOptions(arm64)
	a.MultiPlatform, b.MultiPlatform = true, true
	x, y := opDigests(t, env, a), opDigests(t, env, b)
	var shared []string
	for d, name := range y {
		if _, ok := x[d]; ok && strings.Contains(name, "] link ") {
			shared = append(shared, name)
		}
	}
	sort.Strings(shared)
	if len(shared) != 5 || slices.ContainsFunc(shared, func(n string) bool { return strings.Contains(n, "sample_noarch_python") }) {
		t.Errorf("link steps shared across platforms: %q, want the five that are not noarch: python", shared)
	}
	var names []string
	for _, name := range y {
		if strings.Contains(name, "link sample_noarch_python") {
			names = append(names, name)
		}
	}
	if len(names) != 1 || names[0] != "[linux/arm64 conda 6/6] link sample_noarch_python 1.0" {
		t.Errorf("arm64 link step of the noarch: python package: %q", names)
	}

	newPython := env
	newPython.Packages = testRecipes(t, lockedPackages...)
	for _, p := range newPython.Packages {
		if p.Name == "python" {
			p.SHA256 = strings.Repeat("0", 64)
		}
	}
	changed := changedVertices(opDigests(t, env, baseOptions(amd64)), opDigests(t, newPython, baseOptions(amd64)))
	if !slices.Contains(changed, "[conda 6/6] link sample_noarch_python 1.0") || !slices.Contains(changed, "[conda] python runtime for compiling .pyc") {
		t.Errorf("a new python did not rerun the noarch: python link step: %q", changed)
	}
}

func TestLayerBudgetGroupsStably(t *testing.T) {
	all := testRecipes(t, "activate_deactivate_package-1.0-0.conda", "clobber-a-1.0-0.conda", "clobber-b-1.0-0.conda",
		"dependency-1.0-0.conda", "dependent-1.0-0.conda", "post_link-b-1.0-0.conda", "post_link-c-1.0-0.conda",
		"private-package-1.0-0.conda", "small-executable-1.0-0.conda", "versioned-1.0-0.conda")
	opts := baseOptions(amd64)
	opts.PackageLayers = 4
	env := Environment{BaseImage: "busybox:1.36", Prefix: "/opt/conda", Packages: all[:9]}
	res, err := Build(context.Background(), env, opts)
	if err != nil {
		t.Fatal(err)
	}
	layers := 0
	for _, h := range res.Image.History {
		if h.Comment == "envkit conda package layer" {
			layers++
		}
	}
	if layers == 0 || layers > 4 {
		t.Errorf("%d package layers for 9 packages with a budget of 4", layers)
	}
	if steps := linkSteps(t, env, opts); len(steps) != layers {
		t.Errorf("%d link steps for %d package layers: %v", len(steps), layers, steps)
	}

	// Adding a package re-links its own group only, in one step.
	before := opDigests(t, env, opts)
	env.Packages = all
	after := opDigests(t, env, opts)
	var relinked []string
	for _, name := range changedVertices(before, after) {
		if strings.Contains(name, "] link ") {
			relinked = append(relinked, name)
		}
	}
	if len(relinked) != 1 || !strings.Contains(relinked[0], "versioned 1.0") {
		t.Errorf("adding versioned 1.0 re-linked %v; only its group should be", relinked)
	}
}

// linkSteps checks that every conda layer is the output of exactly one
// exec, started from scratch rather than chained on another step's output
// (each exec of a chain would be a layer of its own), and returns their
// names.
func linkSteps(t *testing.T, env Environment, opts Options) []string {
	t.Helper()
	vs := buildVertices(t, env, opts)
	var names []string
	for _, v := range vs {
		ex := v.Op.GetExec()
		if ex == nil || !strings.Contains(v.Name, "] link ") {
			continue
		}
		names = append(names, v.Name)
		for _, m := range ex.Mounts {
			if m.Dest == outputDir && m.Input >= 0 {
				t.Errorf("%s: its output is chained on another step's", v.Name)
			}
		}
	}
	return names
}

// Every group beyond the budget is one step that links all its members:
// a 300-package environment has at most 100 link steps (hash buckets may
// stay empty), one per package layer.
func TestLayerBudgetOneStepPerGroup(t *testing.T) {
	pkgs := manyPackages(t, 300)
	env := Environment{BaseImage: "busybox:1.36", Prefix: "/opt/conda", Packages: pkgs}
	opts := baseOptions(amd64)
	res, err := Build(context.Background(), env, opts)
	if err != nil {
		t.Fatal(err)
	}
	layers := 0
	for _, h := range res.Image.History {
		if h.Comment == "envkit conda package layer" {
			layers++
		}
	}
	steps := linkSteps(t, env, opts)
	if len(steps) != layers || layers > DefaultPackageLayers || layers < DefaultPackageLayers*9/10 {
		t.Errorf("%d link steps for %d package layers of 300 packages, want one per layer, at most %d", len(steps), layers, DefaultPackageLayers)
	}
	linked := 0
	for _, s := range steps {
		_, what, _ := strings.Cut(s, "] link ")
		linked += len(strings.Split(what, ", "))
		if len(strings.Split(what, ", ")) > 1 && !strings.HasPrefix(s, "[conda group ") {
			t.Errorf("group step named %q", s)
		}
	}
	if linked != 300 {
		t.Errorf("the link steps link %d packages, want 300", linked)
	}
}

func TestBuildErrors(t *testing.T) {
	noSHA := testRecipes(t, "dependency-1.0-0.conda")
	noSHA[0].SHA256 = ""
	fileURL := testRecipes(t, "dependency-1.0-0.conda")
	fileURL[0].URL = "file:///srv/other/noarch/dependency-1.0-0.conda"
	ftpURL := testRecipes(t, "dependency-1.0-0.conda")
	ftpURL[0].URL = "ftp://127.0.0.1/test-recipes/noarch/dependency-1.0-0.conda"
	cases := []struct {
		name string
		env  Environment
		want string
	}{
		{"relative prefix", Environment{BaseImage: "busybox:1.36", Prefix: "opt/conda"}, "must be an absolute path"},
		{"no base", Environment{Prefix: "/opt/conda"}, "names no base image"},
		{"noarch python without python", Environment{BaseImage: "busybox:1.36", Prefix: "/opt/conda",
			Packages: testRecipes(t, "sample_noarch_python-1.0-py_0.conda")}, "has no python package"},
		{"no sha256", Environment{BaseImage: "busybox:1.36", Prefix: "/opt/conda", Packages: noSHA}, "gives no sha256"},
		{"file url without a channel directory", Environment{BaseImage: "busybox:1.36", Prefix: "/opt/conda", Packages: fileURL}, "file:// only from a channel directory passed to the build"},
		{"ftp url", Environment{BaseImage: "busybox:1.36", Prefix: "/opt/conda", Packages: ftpURL}, "cannot be downloaded by BuildKit"},
		{"bad step", Environment{BaseImage: "busybox:1.36", Prefix: "/opt/conda", Steps: []string{"FROBNICATE x"}}, "unknown instruction"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := baseOptions(amd64)
			opts.LocalArchive = localChannel("noarch/dependency-1.0-0.conda")
			_, err := Build(context.Background(), tc.env, opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
