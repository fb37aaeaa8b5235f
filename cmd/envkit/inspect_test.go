package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bkllb "github.com/moby/buildkit/client/llb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/envkit/envkit/internal/buildplan"
	"github.com/envkit/envkit/internal/conda/lock"
	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/envkit/envkit/internal/envlock"
	"github.com/envkit/envkit/internal/imagemeta"
	"github.com/envkit/envkit/internal/registry/registrytest"
	"github.com/envkit/envkit/internal/spec"
	envllb "github.com/envkit/envkit/llb"
)

func TestInspect(t *testing.T) {
	host := registrytest.Start(t, "", "")
	dockerConfig(t, host, "", "")
	baseDigest := registrytest.PushImage(t, host, "library/base", "1", nil,
		registrytest.Layer{Files: map[string]string{"etc/os-release": "ID=debian\n"}, CreatedBy: "# debian.sh"})

	dir := t.TempDir()
	def := "name: demo\nbase:\n  image: " + host + "/library/base:1\nconda:\n  channels: [conda-forge]\n  dependencies:\n    - python=3.10\n    - pip\n"
	if err := os.WriteFile(filepath.Join(dir, "environment.yml"), []byte(def), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "environment.yml")
	currentLock(t, "../../internal/conda/lock/testdata/mamba-good_multiple_categories-lock.yaml", file)

	var got inspection
	if err := json.Unmarshal([]byte(mustRun(t, "inspect", "--json", "--images", host+"/images", file)), &got); err != nil {
		t.Fatal(err)
	}
	if got.BaseDigest != baseDigest || !strings.HasPrefix(got.ImageKey, "envkit-") || !strings.HasPrefix(got.LockHash, "sha256:") || len(got.Packages) == 0 {
		t.Fatalf("inspect before a build: %+v", got)
	}
	if got.Image != nil || len(got.Notes) != 1 || !strings.Contains(got.Notes[0], "no image built") {
		t.Fatalf("inspect before a build: image %+v, notes %q", got.Image, got.Notes)
	}

	// The image a build keeps under the key: base layer, one package
	// layer, the finalize layer.
	imageDigest := registrytest.PushImage(t, host, "images", got.ImageKey, nil,
		registrytest.Layer{Files: map[string]string{"etc/os-release": "ID=debian\n"}, CreatedBy: "# debian.sh"},
		registrytest.Layer{
			Files: map[string]string{
				"opt/conda/conda-meta/python-3.10.6-h582c2e5_0_cpython.json": `{"name":"python","version":"3.10.6","build":"h582c2e5_0_cpython"}`,
				"opt/conda/conda-meta/pip-22.2.2-pyhd8ed1ab_0.json":          `{"name":"pip","version":"22.2.2","build":"pyhd8ed1ab_0"}`,
			},
			CreatedBy: "envkit link pip-22.2.2-pyhd8ed1ab_0 python-3.10.6-h582c2e5_0_cpython",
			Comment:   imagemeta.CondaPackageLayer,
		},
		registrytest.Layer{Files: map[string]string{"opt/conda/conda-meta/history": "\n"}, CreatedBy: "envkit link --finalize --prefix /opt/conda", Comment: imagemeta.CondaEnvironment},
	)
	for _, args := range [][]string{
		{"inspect", "--images", host + "/images", file},
		{"inspect", "--read-layers", "--images", host + "/images", file},
	} {
		out := mustRun(t, args...)
		for _, want := range []string{
			"image key   " + got.ImageKey,
			host + "/images:" + got.ImageKey + "@" + imageDigest,
			"pip-22.2.2-pyhd8ed1ab_0 python-3.10.6-h582c2e5_0_cpython",
			"envkit link --finalize --prefix /opt/conda",
			"linux-64  conda    python",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: output lacks %q:\n%s", strings.Join(args, " "), want, out)
			}
		}
	}

	// A registered version inspects the same.
	mustRun(t, "push", file, host+"/envs")
	var pushed inspection
	if err := json.Unmarshal([]byte(mustRun(t, "inspect", "--json", "--images", host+"/images", host+"/envs/demo:1")), &pushed); err != nil {
		t.Fatal(err)
	}
	if pushed.Version != 1 || pushed.ImageKey != got.ImageKey || pushed.Image == nil || pushed.Image.Digest != imageDigest {
		t.Fatalf("inspect of the registered version: %+v", pushed)
	}
}

// inspect takes the build arguments a build takes: a package layer budget
// enters the key as in envkit build and the frontend (buildplan.KeyOf).
func TestInspectPackageLayersKey(t *testing.T) {
	host := registrytest.Start(t, "", "")
	dockerConfig(t, host, "", "")
	registrytest.PushImage(t, host, "library/base", "1", nil, registrytest.Layer{Files: map[string]string{"etc/os-release": "ID=debian\n"}})
	dir := t.TempDir()
	file := filepath.Join(dir, "environment.yml")
	def := "name: demo\nbase:\n  image: " + host + "/library/base:1\nconda:\n  channels: [conda-forge]\n  dependencies:\n    - python=3.10\n    - pip\n"
	if err := os.WriteFile(file, []byte(def), 0o644); err != nil {
		t.Fatal(err)
	}
	currentLock(t, "../../internal/conda/lock/testdata/mamba-good_multiple_categories-lock.yaml", file)
	inspect := func(args ...string) inspection {
		var got inspection
		if err := json.Unmarshal([]byte(mustRun(t, append([]string{"inspect", "--json"}, append(args, file)...)...)), &got); err != nil {
			t.Fatal(err)
		}
		return got
	}
	plain := inspect()
	five := inspect("--build-arg", "ENVKIT_PACKAGE_LAYERS=5")
	if five.ImageKey == "" || five.ImageKey == plain.ImageKey {
		t.Fatalf("budget 5: key %q, default %q", five.ImageKey, plain.ImageKey)
	}
	if want := buildplan.ImageKey(five.Hash, five.LockHash, five.BaseDigest, 5); five.ImageKey != want {
		t.Errorf("budget 5: key %s, a build's %s", five.ImageKey, want)
	}
	t.Setenv("ENVKIT_PACKAGE_LAYERS", "5")
	if bare := inspect("--build-arg", "ENVKIT_PACKAGE_LAYERS"); bare.ImageKey != five.ImageKey {
		t.Errorf("--build-arg ENVKIT_PACKAGE_LAYERS from the environment: %s, want %s", bare.ImageKey, five.ImageKey)
	}
}

func TestInspectWithoutKey(t *testing.T) {
	dir := t.TempDir()
	copyFile(t, "../../examples/azureml/conda.yml", dir, "environment.yml")
	// No lock, and a base (a conda file names none) that cannot be reached:
	// both are said, neither is fatal.
	out := mustRun(t, "inspect", "--base-image", "127.0.0.1:1/nothing:1", filepath.Join(dir, "environment.yml"))
	for _, want := range []string{"base image digest unresolved: 127.0.0.1:1/nothing:1", "no conda-lock.yml beside the definition"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "image key  ") {
		t.Errorf("an image key without a lock:\n%s", out)
	}
}

// inspect reads the packages of a layer from the history entry the LLB
// conversion writes for it: this holds the two to one format.
func TestInspectReadsLLBHistory(t *testing.T) {
	pkg := func(name, version, build string) *repodata.Record {
		fn := name + "-" + version + "-" + build + ".conda"
		return &repodata.Record{Name: name, Version: version, Build: build, Filename: fn,
			URL: "http://127.0.0.1:8000/test-recipes/noarch/" + fn, SHA256: strings.Repeat("ab", 32)}
	}
	pkgs := []*repodata.Record{pkg("dependency", "1.0", "0"), pkg("dependent", "1.0", "0")}
	platform := ocispecs.Platform{OS: "linux", Architecture: "amd64"}
	var base dockerspec.DockerOCIImage
	base.OS, base.Architecture = "linux", "amd64"
	res, err := envllb.Build(context.Background(), envllb.Environment{BaseImage: "debian:12", Prefix: "/opt/conda", Packages: pkgs}, envllb.Options{
		Platform:      platform,
		BuildPlatform: platform,
		Base:          envllb.ResolvedImage{Ref: "docker.io/library/debian:12@sha256:" + strings.Repeat("cd", 32), Config: base},
		LinkBinary: func(p ocispecs.Platform) bkllb.State {
			return bkllb.Image("127.0.0.1:5000/envkit/frontend:test", bkllb.Platform(p))
		},
		Epoch: time.Unix(0, 0),
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range res.Image.History {
		if h.Comment == imagemeta.CondaPackageLayer {
			rest, ok := strings.CutPrefix(h.CreatedBy, "envkit link ")
			if !ok {
				t.Fatalf("package layer history %q does not start with %q", h.CreatedBy, "envkit link ")
			}
			got = append(got, strings.Fields(rest)...)
		}
	}
	slices.Sort(got)
	if want := []string{"dependency-1.0-0", "dependent-1.0-0"}; !slices.Equal(got, want) {
		t.Fatalf("packages named by the LLB history: %v, want %v", got, want)
	}
}

// A Docker Hub base resolves through the mirror the builder uses, so the
// key is the build's; an environment without conda packages needs no lock.
func TestInspectThroughMirror(t *testing.T) {
	host := registrytest.Start(t, "", "")
	dockerConfig(t, host, "", "")
	baseDigest := registrytest.PushImage(t, host, "library/debian", "bookworm-slim", nil, registrytest.Layer{Files: map[string]string{"etc/os-release": "ID=debian\n"}})
	dir := t.TempDir()
	file := filepath.Join(dir, "environment.yml")
	if err := os.WriteFile(file, []byte("name: plain\nbase:\n  image: debian:bookworm-slim\nenv:\n  A: b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var got inspection
	if err := json.Unmarshal([]byte(mustRun(t, "inspect", "--json", "--mirror", "docker.io="+host, file)), &got); err != nil {
		t.Fatal(err)
	}
	if got.BaseDigest != baseDigest || got.ImageKey == "" || len(got.Notes) != 0 {
		t.Fatalf("inspect through a mirror: %+v", got)
	}
	if _, errOut, code := runCmd(t, "inspect", "--mirror", "docker.io", file); code != 2 || !strings.Contains(errOut, "want REGISTRY=HOST") {
		t.Fatalf("--mirror without a host: exit %d, %q", code, errOut)
	}
}

// currentLock writes the lock at src beside the definition file, its
// content_hash made current for the definition: a real lock of a real
// environment, which the image key takes only when it is current.
func currentLock(t *testing.T, src, file string) {
	t.Helper()
	lk, err := lock.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	def, err := spec.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	in := envlock.Inputs(def, func(string) (string, bool) { return "", false })
	for _, platform := range lk.Metadata.Platforms {
		lk.Metadata.ContentHash[platform] = lock.ContentHash(in, platform)
	}
	if _, err := lk.WriteFile(filepath.Join(filepath.Dir(file), "conda-lock.yml")); err != nil {
		t.Fatal(err)
	}
}

// A base that cannot be resolved leaves the image key unknown, not the
// lock hash, which does not depend on it.
func TestInspectLockHashWithoutBase(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "environment.yml")
	def := "name: demo\nbase:\n  image: 127.0.0.1:1/nothing:1\nconda:\n  channels: [conda-forge]\n  dependencies:\n    - python=3.10\n    - pip\n"
	if err := os.WriteFile(file, []byte(def), 0o644); err != nil {
		t.Fatal(err)
	}
	currentLock(t, "../../internal/conda/lock/testdata/mamba-good_multiple_categories-lock.yaml", file)
	var got inspection
	if err := json.Unmarshal([]byte(mustRun(t, "inspect", "--json", file)), &got); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got.LockHash, "sha256:") || got.ImageKey != "" || len(got.Notes) == 0 {
		t.Errorf("inspect with an unreachable base: lock hash %q, key %q, notes %q", got.LockHash, got.ImageKey, got.Notes)
	}
}
