//go:build integration

package integration

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/envkit/envkit/hack/services"
	"github.com/envkit/envkit/internal/buildkitd"
)

const epoch = "1704067200"

var frontendOnce struct {
	sync.Once
	ref string
	err string
}

// frontendImage builds envkit's frontend image once (hack/frontend-image.sh,
// the frontend-image target) and pushes it to the local registry, with the
// same version as ./bin/envkit so image labels agree.
func frontendImage(t *testing.T) string {
	t.Helper()
	frontendOnce.Do(func() {
		ref := env.Registry + "/envkit/frontend:test"
		v, _, err := runErr(time.Minute, nil, "envkit", "--version")
		if err != nil {
			frontendOnce.err = err.Error()
			return
		}
		fields := strings.Fields(v)
		version := fields[len(fields)-1]
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
		defer cancel()
		cmd := execIn(ctx, "..", "hack/frontend-image.sh", ref)
		cmd.Env = append(os.Environ(), "BUILDKIT_HOST="+env.BuildkitHost, "BUILDCTL="+filepath.Join(env.bin, "buildctl"), "VERSION="+version)
		if out, err := cmd.CombinedOutput(); err != nil {
			frontendOnce.err = err.Error() + "\n" + tail(string(out), 30)
			return
		}
		frontendOnce.ref = ref
	})
	if frontendOnce.err != "" {
		t.Fatalf("frontend image: %s", frontendOnce.err)
	}
	return frontendOnce.ref
}

// syntaxContext is a context whose environment.yml names the frontend
// image on its first line, with its lock beside it.
func syntaxContext(t *testing.T, def string) string {
	t.Helper()
	dir := writeFiles(t, map[string]string{"environment.yml": "# syntax=" + frontendImage(t) + "\n" + def})
	run(t, 2*time.Minute, "envkit", "lock", filepath.Join(dir, "environment.yml"))
	return dir
}

// imageOutput is the image exporter with the attributes that make digests
// comparable across clients. No rewrite-timestamp: envkit's own layers
// carry SOURCE_DATE_EPOCH already, and envkit build adds the option by
// itself when a definition has custom steps.
func imageOutput(name string) string {
	return "type=image,name=" + name + ",push=true,oci-mediatypes=true"
}

// TestFourWays builds one definition and lock in-process, through
// gateway.v0, through the # syntax= line with buildctl and with buildx: the
// same platform image manifest digest each time.
func TestFourWays(t *testing.T) {
	dir := syntaxContext(t, helloDefinition(env.channel))
	file := filepath.Join(dir, "environment.yml")
	repo := env.Registry + "/envkit/fourways"
	digests := map[string]string{}
	meta := func(way string) string { return filepath.Join(t.TempDir(), way+".json") }

	m := meta("inprocess")
	run(t, 15*time.Minute, "envkit", "build", file, "--addr", env.BuildkitHost, "--progress", "plain",
		"--build-arg", "SOURCE_DATE_EPOCH="+epoch, "--output", imageOutput(repo+":inprocess"), "--metadata-file", m)
	digests["in-process client.Build"] = metadataDigest(t, m)

	m = meta("gateway")
	run(t, 15*time.Minute, "buildctl", "--addr", env.BuildkitHost, "build", "--progress", "plain",
		"--frontend", "gateway.v0", "--opt", "source="+frontendImage(t),
		"--local", "context="+dir, "--local", "dockerfile="+dir, "--opt", "filename=environment.yml",
		"--opt", "build-arg:SOURCE_DATE_EPOCH="+epoch, "--output", imageOutput(repo+":gateway"), "--metadata-file", m)
	digests["buildctl gateway.v0"] = metadataDigest(t, m)

	m = meta("syntax")
	run(t, 15*time.Minute, "buildctl", "--addr", env.BuildkitHost, "build", "--progress", "plain",
		"--frontend", "dockerfile.v0",
		"--local", "context="+dir, "--local", "dockerfile="+dir, "--opt", "filename=environment.yml",
		"--opt", "build-arg:SOURCE_DATE_EPOCH="+epoch, "--output", imageOutput(repo+":syntax"), "--metadata-file", m)
	digests["buildctl # syntax="] = metadataDigest(t, m)

	builder := "envkit-it-" + filepath.Base(t.TempDir())
	run(t, time.Minute, "docker-buildx", "create", "--name", builder, "--driver", "remote", env.BuildkitHost)
	t.Cleanup(func() { runErr(time.Minute, nil, "docker-buildx", "rm", builder) })
	m = meta("buildx")
	run(t, 15*time.Minute, "docker-buildx", "build", "--builder", builder, "--progress", "plain",
		"-f", file, "--provenance=false", "--sbom=false", "--build-arg", "SOURCE_DATE_EPOCH="+epoch,
		"--output", imageOutput(repo+":buildx"), "--metadata-file", m, dir)
	digests["buildx # syntax="] = metadataDigest(t, m)

	want := digests["in-process client.Build"]
	for way, d := range digests {
		if d != want {
			t.Errorf("%s: %s, in-process: %s", way, d, want)
		}
	}
	checkHello(t, repo+"@"+want)
}

// TestReproducibleAcrossBuilders builds the same definition and lock on
// the services' buildkitd and on a second one with fresh state: the same
// digest, for a conda-only definition and for one with a RUN step.
func TestReproducibleAcrossBuilders(t *testing.T) {
	second := freshBuilder(t)
	for name, def := range map[string]string{
		"conda": helloDefinition(env.channel),
		"run-step": strings.Replace(helloDefinition(env.channel), "conda:\n",
			"steps:\n  - RUN mkdir -p /srv && echo ok > /srv/status && touch /srv/stamp\nconda:\n", 1),
	} {
		t.Run(name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{"environment.yml": def})
			file := filepath.Join(dir, "environment.yml")
			run(t, 2*time.Minute, "envkit", "lock", file)
			var digests []string
			for i, addr := range []string{env.BuildkitHost, second} {
				m := filepath.Join(t.TempDir(), "meta.json")
				ref := env.Registry + "/envkit/repro-" + name + ":" + []string{"a", "b"}[i]
				run(t, 15*time.Minute, "envkit", "build", file, "--addr", addr, "--progress", "plain",
					"--build-arg", "SOURCE_DATE_EPOCH="+epoch, "--output", imageOutput(ref), "--metadata-file", m)
				digests = append(digests, metadataDigest(t, m))
			}
			if digests[0] != digests[1] {
				t.Fatalf("builder A: %s, builder B: %s", digests[0], digests[1])
			}
		})
	}
}

// TestCacheAcrossBuilders: builder A exports its cache to the registry
// (mode=max); builder B, fresh, imports it and runs no exec step, through
// gateway.v0 (the frontend image's binary). TestBaseMatrix checks the same
// through # syntax= and envkit build (the link binary from a local input:
// the steps mount it read-only, which BuildKit keys by content, so their
// cache is exported and imported too).
func TestCacheAcrossBuilders(t *testing.T) {
	dir := writeFiles(t, map[string]string{"environment.yml": helloDefinition(env.channel)})
	run(t, 2*time.Minute, "envkit", "lock", filepath.Join(dir, "environment.yml"))
	cache := env.Registry + "/envkit/cache:hello"
	build := func(addr string, cacheOpt ...string) string {
		args := append([]string{"--addr", addr, "build", "--progress", "rawjson",
			"--frontend", "gateway.v0", "--opt", "source=" + frontendImage(t),
			"--local", "context=" + dir, "--local", "dockerfile=" + dir, "--opt", "filename=environment.yml",
			"--opt", "build-arg:SOURCE_DATE_EPOCH=" + epoch}, cacheOpt...)
		_, stderr, err := runErr(15*time.Minute, nil, "buildctl", args...)
		if err != nil {
			t.Fatalf("buildctl %s: %v\n%s", strings.Join(args, " "), err, tail(stderr, 40))
		}
		return stderr
	}
	build(env.BuildkitHost, "--export-cache", "type=registry,ref="+cache+",mode=max")
	progress := build(freshBuilder(t), "--import-cache", "type=registry,ref="+cache)
	ran, cached := execSteps(t, progress)
	if len(ran) > 0 {
		t.Errorf("builder B ran %d exec steps despite A's cache: %s", len(ran), strings.Join(ran, "; "))
	}
	if cached == 0 {
		t.Errorf("builder B reports no cached exec step: the cache import did nothing")
	}
}

// execSteps is services.ExecSteps of progress held in a string.
func execSteps(t *testing.T, progress string) (ran []string, cached int) {
	t.Helper()
	ran, cached, err := services.ExecSteps(strings.NewReader(progress))
	if err != nil {
		t.Fatal(err)
	}
	return ran, cached
}

// freshBuilder starts a second buildkitd with empty state (docker.io
// mirrored to the same registry) for the test.
func freshBuilder(t *testing.T) string {
	t.Helper()
	return builderWith(t, filepath.Join(env.bin, "buildkitd"))
}

// builderWith is freshBuilder with the buildkitd binary given (another
// release's); the daemon gets the test's environment.
func builderWith(t *testing.T, binary string) string {
	t.Helper()
	state, err := os.MkdirTemp("", "ekb-")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	addr, err := buildkitd.Start(ctx, buildkitd.Config{
		StateDir:        state,
		Binary:          binary,
		DockerHubMirror: env.Registry,
	})
	if err != nil {
		os.RemoveAll(state)
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := buildkitd.Stop(state, 20*time.Second); err != nil {
			t.Errorf("stopping builder B: %v", err)
		}
		os.RemoveAll(state)
	})
	return addr
}
