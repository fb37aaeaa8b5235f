//go:build integration

package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// helloDefinition is an envkit definition on the Debian fixture base with
// python (Debian's, repackaged) and a noarch: python package with an entry
// point and a post-link script, from the fixture channel.
func helloDefinition(channel string) string {
	return fmt.Sprintf(`name: hello
base:
  image: docker.io/library/debian:bookworm-slim
conda:
  channels:
    - %s
  dependencies:
    - python=3.11
    - envkit-hello
env:
  HELLO_GREETING: hi there
`, channel)
}

// checkHello runs the checks of issue 5 in a built hello image.
func checkHello(t *testing.T, image string) {
	t.Helper()
	got := runIn(t, image, `{
python -c 'import envkit_hello, sys; print(envkit_hello.GREETING, sys.version_info[:2] == (3, 11))'
envkit-hello
cat "$CONDA_PREFIX/share/envkit-hello/post-link-ran"
ls "$CONDA_PREFIX/conda-meta" | grep -c '\.json$'
echo "$HELLO_GREETING"
command -v python
} > $OUT/result 2>&1`)
	want := "hello from envkit-hello True\nhello from envkit-hello\nenvkit-hello 1.0\n2\nhi there\n"
	if !strings.HasPrefix(got, want) || !strings.HasSuffix(strings.TrimSpace(got), "/bin/python") {
		t.Fatalf("in %s:\n%s\nwant it to start with\n%s", image, got, want)
	}
}

// TestBuildInProcess builds with envkit build (the frontend in-process),
// pushes under the image key, checks the image by running it, then
// builds again: a hash hit that builds nothing and gives the same digest.
func TestBuildInProcess(t *testing.T) {
	dir := writeFiles(t, map[string]string{"environment.yml": helloDefinition(env.channel)})
	file := filepath.Join(dir, "environment.yml")
	run(t, 2*time.Minute, "envkit", "lock", file)
	repo := env.Registry + "/envkit/hello"
	meta := filepath.Join(dir, "meta.json")
	out := run(t, 15*time.Minute, "envkit", "build", file, "--addr", env.BuildkitHost, "--push", repo,
		"--progress", "plain", "--metadata-file", meta, "--build-arg", "SOURCE_DATE_EPOCH=1704067200")
	digest := metadataDigest(t, meta)
	if !strings.Contains(out, "@"+digest) {
		t.Errorf("envkit build printed %q, want the pushed digest %s", out, digest)
	}
	checkHello(t, repo+"@"+digest)

	start := time.Now()
	stdout, stderr, err := runErr(2*time.Minute, nil, "envkit", "build", file, "--addr", env.BuildkitHost, "--push", repo, "--progress", "plain")
	took := time.Since(start)
	if err != nil {
		t.Fatalf("second build: %v\n%s", err, stderr)
	}
	if !strings.Contains(stdout, "@"+digest) || !strings.Contains(stderr, "nothing to build") {
		t.Fatalf("second build: stdout %q stderr %q, want a hash hit on %s", stdout, stderr, digest)
	}
	t.Logf("hash-hit lookup: %s (whole command)", took)

	// A renamed, reordered, recommented copy hashes the same: its lookup
	// returns the same image without building.
	copyDef := strings.Replace(helloDefinition(env.channel), "name: hello", "# a copy\nname: hello-copy", 1)
	copyDef = strings.Replace(copyDef, "    - python=3.11\n    - envkit-hello\n", "    - envkit-hello\n    - python=3.11\n", 1)
	copyDir := writeFiles(t, map[string]string{"environment.yml": copyDef})
	copyFile := filepath.Join(copyDir, "environment.yml")
	run(t, 2*time.Minute, "envkit", "lock", copyFile)
	stdout, stderr, err = runErr(2*time.Minute, nil, "envkit", "build", copyFile, "--addr", env.BuildkitHost, "--push", repo, "--progress", "plain")
	if err != nil {
		t.Fatalf("copy: %v\n%s", err, stderr)
	}
	if !strings.Contains(stdout, "@"+digest) || !strings.Contains(stderr, "nothing to build") {
		t.Fatalf("renamed and reordered copy: stdout %q stderr %q, want a hash hit on %s", stdout, stderr, digest)
	}
}

// TestManagedDaemon builds without --addr or BUILDKIT_HOST: envkit starts
// its own buildkitd, reuses it for the next build, and stops it on request.
func TestManagedDaemon(t *testing.T) {
	state, err := os.MkdirTemp("", "ekm-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(state)
	daemonEnv := []string{"BUILDKIT_HOST=", "ENVKIT_BUILDKITD_STATE=" + state, "ENVKIT_DOCKERHUB_MIRROR=" + env.Registry}
	defer runErr(time.Minute, daemonEnv, "envkit", "buildkitd", "stop")
	dir := writeFiles(t, map[string]string{"environment.yml": "name: bare\nbase:\n  image: docker.io/library/busybox:latest\nenv:\n  A: b\n"})
	for i, want := range []string{"starting a local buildkitd", ""} {
		_, stderr, err := runErr(5*time.Minute, daemonEnv, "envkit", "build", filepath.Join(dir, "environment.yml"), "--progress", "plain",
			"--output", "type=oci,dest="+filepath.Join(dir, "out.tar"))
		if err != nil {
			t.Fatalf("build %d: %v\n%s", i, err, tail(stderr, 30))
		}
		if started := strings.Contains(stderr, "starting a local buildkitd"); started != (want != "") {
			t.Errorf("build %d: started a daemon: %v, want %v", i, started, want != "")
		}
	}
	if out, _, err := runErr(time.Minute, daemonEnv, "envkit", "buildkitd", "status"); err != nil || !strings.HasPrefix(out, "running") {
		t.Errorf("status: %q, %v", out, err)
	}
	if _, stderr, err := runErr(time.Minute, daemonEnv, "envkit", "buildkitd", "stop"); err != nil {
		t.Fatalf("stop: %v\n%s", err, stderr)
	}
	if out, _, err := runErr(time.Minute, daemonEnv, "envkit", "buildkitd", "status"); err == nil || !strings.HasPrefix(out, "not running") {
		t.Errorf("status after stop: %q, %v", out, err)
	}
}
