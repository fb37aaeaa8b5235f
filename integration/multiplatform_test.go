//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/envkit/envkit/hack/services"
	"github.com/envkit/envkit/internal/conda/lock"
	"github.com/envkit/envkit/internal/platform"
)

// multiDefinition is helloDefinition for amd64 and arm64, with
// envkit-data-01 (noarch, 1.0 and 1.1 in the channel) to change the pin
// of on one platform only.
func multiDefinition(channel string) string {
	return fmt.Sprintf(`name: multi
platforms: [linux/amd64, linux/arm64]
base:
  image: docker.io/library/debian:bookworm-slim
conda:
  channels:
    - %s
  dependencies:
    - python=3.11
    - envkit-hello
    - envkit-data-01
`, channel)
}

// TestMultiPlatform: a definition for linux/amd64 and linux/arm64 locks
// both and builds one image index, the same with envkit build and, on a
// second fresh builder, through # syntax= (buildctl and buildx); in each
// image python reports its own machine and the packages import. Changing
// the arm64 pin of one package reruns that package's link and the arm64
// finalize only.
func TestMultiPlatform(t *testing.T) {
	requirePlatforms(t, "linux/arm64")
	start := time.Now()
	frontendPlatforms(t, frontendImage(t), "linux/amd64", "linux/arm64")
	t.Logf("frontend image: %s", time.Since(start).Round(time.Second))

	start = time.Now()
	dir := syntaxContext(t, multiDefinition(env.channel))
	t.Logf("lock for both platforms: %s", time.Since(start).Round(time.Second))
	file := filepath.Join(dir, "environment.yml")
	lockFile := filepath.Join(dir, "conda-lock.yml")
	lk, err := lock.ReadFile(lockFile)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(slices.Sorted(slices.Values(lk.Metadata.Platforms)), []string{"linux-64", "linux-aarch64"}) {
		t.Fatalf("locked for %v, want linux-64 and linux-aarch64", lk.Metadata.Platforms)
	}
	for _, subdir := range lk.Metadata.Platforms {
		if got := lockedVersion(lk, subdir, "envkit-data-01"); got != "1.1" {
			t.Fatalf("%s: envkit-data-01 %s locked, want the newest, 1.1", subdir, got)
		}
	}

	// Builder A builds with envkit build, a fresh builder B through the
	// # syntax= line with buildctl, then buildx (from B's cache).
	repo := env.Registry + "/envkit/multi"
	addr := freshBuilder(t)
	digests := map[string]string{}
	timed := func(way string, f func() string) {
		start := time.Now()
		digests[way] = f()
		t.Logf("%s: %s in %s", way, digests[way], time.Since(start).Round(time.Second))
	}
	var progress string
	timed("envkit build on builder A", func() string {
		var d string
		progress, d = envkitBuild(t, file, addr, repo+":envkit")
		return d
	})
	// envkit build asks for the definition's platforms: BuildKit finds
	// the result matches (it warned when the daemon's own was asked for).
	if w, err := services.Warnings(strings.NewReader(progress)); err != nil || len(w) > 0 {
		t.Errorf("envkit build: warnings %q (%v)", w, err)
	}
	for _, p := range []string{"linux/amd64", "linux/arm64"} {
		if name := "[internal] load the envkit binary for " + p; !slices.ContainsFunc(stepsOf(t, progress), func(v services.Vertex) bool { return v.Name == name }) {
			t.Errorf("envkit build has no step %q: each platform's steps run its own envkit", name)
		}
	}
	second := freshBuilder(t)
	timed("buildctl # syntax= on builder B", func() string { return syntaxBuild(t, dir, second, repo+":syntax") })
	builder := "envkit-mp-" + filepath.Base(t.TempDir())
	run(t, time.Minute, "docker-buildx", "create", "--name", builder, "--driver", "remote", second)
	t.Cleanup(func() { runErr(time.Minute, nil, "docker-buildx", "rm", builder) })
	timed("buildx # syntax= on builder B", func() string {
		m := filepath.Join(t.TempDir(), "meta.json")
		run(t, 15*time.Minute, "docker-buildx", "build", "--builder", builder, "--progress", "plain",
			"-f", file, "--provenance=false", "--sbom=false", "--build-arg", "SOURCE_DATE_EPOCH="+epoch,
			"--output", imageOutput(repo+":buildx"), "--metadata-file", m, dir)
		return metadataDigest(t, m)
	})
	want := digests["envkit build on builder A"]
	for way, d := range digests {
		if d != want {
			t.Errorf("%s: %s, envkit build on builder A: %s", way, d, want)
		}
	}

	index := repo + "@" + want
	manifests := indexPlatforms(t, index)
	start = time.Now()
	for _, p := range []string{"linux/amd64", "linux/arm64"} {
		plat, _ := platform.Parse(p)
		got := runOn(t, index, plat.OCI(), `{
python -c 'import platform, envkit_hello; print(platform.machine(), envkit_hello.GREETING)'
head -1 "$CONDA_PREFIX/share/envkit-data/envkit-data-01.txt"
} > $OUT/result 2>&1`)
		if wantOut := plat.Machine + " hello from envkit-hello\nenvkit-data-01 1.1\n"; got != wantOut {
			t.Errorf("%s image (%s): %q, want %q", p, manifests[p], got, wantOut)
		}
	}
	t.Logf("python in both images: %s", time.Since(start).Round(time.Second))

	// arm64 alone moves envkit-data-01 back to 1.0: builder A links that
	// package (a link step is one op for every platform, run on the build
	// platform, so its name carries none) and finalizes arm64, nothing else.
	pinArm64(t, lk, lockFile, "envkit-data-01", "1.0")
	start = time.Now()
	progress, d := envkitBuild(t, file, addr, repo+":arm64-pin")
	t.Logf("rebuild after the arm64 pin change: %s", time.Since(start).Round(time.Second))
	var ran []string
	for _, s := range stepsOf(t, progress) {
		if s.Ran() && (stepKind(s.Name) == "link" || stepKind(s.Name) == "finalize environment") {
			ran = append(ran, s.Name)
		}
	}
	slices.Sort(ran)
	if len(ran) != 2 || !strings.HasPrefix(ran[0], "[conda ") || !strings.HasSuffix(ran[0], "] link envkit-data-01 1.0") ||
		!strings.HasPrefix(ran[1], "[linux/arm64 conda] finalize environment") {
		t.Errorf("after the arm64 pin change the build ran %q, want only the link of envkit-data-01 1.0 and the arm64 finalize", ran)
	}
	// The amd64 image stays the same image: its layers, and its lock-hash
	// label, which covers its own platform's pins only.
	changed := indexPlatforms(t, repo+"@"+d)
	if changed["linux/amd64"] != manifests["linux/amd64"] {
		before, after := imageOf(t, repo+"@"+manifests["linux/amd64"]), imageOf(t, repo+"@"+changed["linux/amd64"])
		t.Errorf("the amd64 image changed with an arm64 pin (%s, then %s):\nlayers %v\n       %v\nlabels %v\n       %v",
			manifests["linux/amd64"], changed["linux/amd64"], before.layers, after.layers, before.labels, after.labels)
	}
	if changed["linux/arm64"] == manifests["linux/arm64"] {
		t.Errorf("the arm64 image did not change with its pin")
	}
	plat, _ := platform.Parse("linux/arm64")
	if got := runOn(t, repo+"@"+d, plat.OCI(), `head -1 "$CONDA_PREFIX/share/envkit-data/envkit-data-01.txt" > $OUT/result`); got != "envkit-data-01 1.0\n" {
		t.Errorf("arm64 image after the pin change: %q", got)
	}
}

// builtImage is what a platform image's manifest and config hold that a
// rebuild may change.
type builtImage struct {
	layers []string
	labels map[string]string
}

// imageOf reads an image manifest and its config from the registry.
func imageOf(t *testing.T, ref string) builtImage {
	t.Helper()
	var m ocispecs.Manifest
	if err := json.Unmarshal(skopeoRaw(t, ref), &m); err != nil {
		t.Fatalf("%s: %v", ref, err)
	}
	var out builtImage
	for _, l := range m.Layers {
		out.layers = append(out.layers, l.Digest.String())
	}
	cmd := execIn(t.Context(), ".", "skopeo", "inspect", "--config", "--raw", "--tls-verify=false", "docker://"+ref)
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("skopeo inspect --config %s: %v", ref, err)
	}
	var cfg ocispecs.Image
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatalf("%s config: %v", ref, err)
	}
	out.labels = cfg.Config.Labels
	return out
}

// requirePlatforms skips the test, saying what is missing, when the
// services' buildkitd cannot run a platform (no emulator registered);
// with CI set it fails instead, as CI installs them (make tools).
func requirePlatforms(t *testing.T, want ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	c, err := client.New(ctx, env.BuildkitHost)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	workers, err := c.ListWorkers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var have []string
	for _, w := range workers {
		for _, p := range w.Platforms {
			have = append(have, platform.Format(p))
		}
	}
	for _, p := range want {
		if slices.Contains(have, p) {
			continue
		}
		msg := fmt.Sprintf("buildkitd cannot run %s here (its workers run %s): no emulator registered for it; make tools installs qemu-user-static and binfmt-support, which need root and a mountable /proc/sys/fs/binfmt_misc", p, strings.Join(have, ", "))
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

// frontendPlatforms checks the frontend image is an index with an image
// for each platform.
func frontendPlatforms(t *testing.T, ref string, want ...string) {
	t.Helper()
	got := indexPlatforms(t, ref)
	for _, p := range want {
		if got[p] == "" {
			t.Fatalf("frontend image %s has no %s image (has %v): make frontend-image builds both by default", ref, p, got)
		}
	}
}

// indexPlatforms reads an image index from the registry: its manifest
// digests by platform.
func indexPlatforms(t *testing.T, ref string) map[string]string {
	t.Helper()
	var idx ocispecs.Index
	if err := json.Unmarshal(skopeoRaw(t, ref), &idx); err != nil {
		t.Fatalf("%s: %v", ref, err)
	}
	out := map[string]string{}
	for _, m := range idx.Manifests {
		if m.Platform != nil && m.Platform.OS != "unknown" { // not an attestation
			out[platform.Format(*m.Platform)] = m.Digest.String()
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s is not an image index with platforms", ref)
	}
	return out
}

// envkitBuild builds file from its lock with envkit build on addr, pushed
// as ref; it returns the JSON progress and the index digest.
func envkitBuild(t *testing.T, file, addr, ref string) (string, string) {
	t.Helper()
	m := filepath.Join(t.TempDir(), "meta.json")
	args := []string{"build", file, "--frozen", "--addr", addr, "--progress", "json",
		"--build-arg", "SOURCE_DATE_EPOCH=" + epoch, "--output", imageOutput(ref), "--metadata-file", m}
	_, stderr, err := runErr(15*time.Minute, nil, "envkit", args...)
	if err != nil {
		t.Fatalf("envkit %s: %v\n%s", strings.Join(args, " "), err, tail(stderr, 40))
	}
	return stderr, metadataDigest(t, m)
}

// syntaxBuild builds the context dir through its # syntax= line with
// buildctl on addr, pushed as ref; it returns the index digest.
func syntaxBuild(t *testing.T, dir, addr, ref string) string {
	t.Helper()
	m := filepath.Join(t.TempDir(), "meta.json")
	run(t, 15*time.Minute, "buildctl", "--addr", addr, "build", "--progress", "plain", "--frontend", "dockerfile.v0",
		"--local", "context="+dir, "--local", "dockerfile="+dir, "--opt", "filename=environment.yml",
		"--opt", "build-arg:SOURCE_DATE_EPOCH="+epoch, "--output", imageOutput(ref), "--metadata-file", m)
	return metadataDigest(t, m)
}

// lockedVersion is the version of package name locked for subdir.
func lockedVersion(lk *lock.Lock, subdir, name string) string {
	for _, p := range lk.ForPlatform(subdir) {
		if p.Name == name {
			return p.Version
		}
	}
	return ""
}

// pinArm64 moves the linux-aarch64 pin of noarch package name to version
// (build 0, from the fixture channel's repodata) in the lock at path, as a
// lock made when arm64 had only that version would hold; linux-64 keeps
// its pin, and the lock stays current (content_hash covers the definition,
// not the pins).
func pinArm64(t *testing.T, lk *lock.Lock, path, name, version string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(env.fixtures, "channel", "noarch", "repodata.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rd struct {
		Packages map[string]struct {
			MD5    string `json:"md5"`
			SHA256 string `json:"sha256"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(b, &rd); err != nil {
		t.Fatal(err)
	}
	fn := name + "-" + version + "-0.tar.bz2"
	rec, ok := rd.Packages[fn]
	if !ok {
		t.Fatalf("the fixture channel has no noarch/%s", fn)
	}
	found := false
	for i := range lk.Packages {
		p := &lk.Packages[i]
		if p.Name != name || p.Platform != "linux-aarch64" {
			continue
		}
		p.URL = p.URL[:strings.LastIndex(p.URL, "/")+1] + fn
		p.Version, p.Hash.MD5, p.Hash.SHA256 = version, rec.MD5, rec.SHA256
		found = true
	}
	if !found {
		t.Fatalf("%s: no linux-aarch64 %s", path, name)
	}
	if _, err := lk.WriteFile(path); err != nil {
		t.Fatal(err)
	}
}

// runOn is runIn for one platform of image (an index): script runs in
// that platform's image, under emulation when it is foreign.
func runOn(t *testing.T, image string, p ocispecs.Platform, script string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	c, err := client.New(ctx, env.BuildkitHost)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dest := t.TempDir()
	_, err = c.Build(ctx, client.SolveOpt{
		Exports: []client.ExportEntry{{Type: client.ExporterLocal, OutputDir: dest}},
	}, "", func(ctx context.Context, gw gwclient.Client) (*gwclient.Result, error) {
		_, _, config, err := gw.ResolveImageConfig(ctx, image, sourceresolver.Opt{ImageOpt: &sourceresolver.ResolveImageOpt{Platform: &p}})
		if err != nil {
			return nil, err
		}
		st, err := llb.Image(image, llb.Platform(p)).WithImageConfig(config)
		if err != nil {
			return nil, err
		}
		out := st.Run(llb.Args([]string{"/bin/sh", "-c", script}), llb.AddEnv("OUT", "/out"), llb.IgnoreCache,
			llb.WithCustomName("run in "+image+" for "+platform.Format(p))).AddMount("/out", llb.Scratch())
		def, err := out.Marshal(ctx, llb.Platform(p))
		if err != nil {
			return nil, err
		}
		return gw.Solve(ctx, gwclient.SolveRequest{Definition: def.ToPB()})
	}, nil)
	if err != nil {
		t.Fatalf("running in %s for %s: %v", image, platform.Format(p), err)
	}
	b, err := os.ReadFile(filepath.Join(dest, "result"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
