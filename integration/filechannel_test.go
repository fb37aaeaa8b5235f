//go:build integration

package integration

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/envkit/envkit/frontend"
	"github.com/envkit/envkit/hack/services"
)

// TestFileChannel builds a definition whose channel is the fixture channel
// as a file:// URL, locked, with envkit build (which passes the channel
// directory by itself) and through the # syntax= line with buildctl and
// buildx given the channel's named context: one image digest, whose python
// and packages work. Without the lock the frontend solves from the
// context's repodata and builds the same image; without the context the
// build fails with the flags that give it.
func TestFileChannel(t *testing.T) {
	channelDir := filepath.Join(env.fixtures, "channel")
	channelURL := "file://" + channelDir
	name := frontend.ChannelContext(channelURL)
	dir := syntaxContext(t, helloDefinition(channelURL))
	file := filepath.Join(dir, "environment.yml")
	lockData, err := os.ReadFile(filepath.Join(dir, "conda-lock.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(lockData), "url: "+channelURL+"/noarch/envkit-hello-") {
		t.Fatalf("the lock does not take envkit-hello from %s:\n%s", channelURL, lockData)
	}
	repo := env.Registry + "/envkit/filechannel"
	meta := func(way string) string { return filepath.Join(t.TempDir(), way+".json") }
	digests := map[string]string{}

	m := meta("envkit")
	run(t, 15*time.Minute, "envkit", "build", file, "--addr", env.BuildkitHost, "--progress", "plain",
		"--build-arg", "SOURCE_DATE_EPOCH="+epoch, "--output", imageOutput(repo+":envkit"), "--metadata-file", m)
	digests["envkit build"] = metadataDigest(t, m)

	syntaxArgs := []string{"--addr", env.BuildkitHost, "build", "--progress", "plain", "--frontend", "dockerfile.v0",
		"--local", "context=" + dir, "--local", "dockerfile=" + dir, "--opt", "filename=environment.yml",
		"--opt", "build-arg:SOURCE_DATE_EPOCH=" + epoch}
	m = meta("buildctl")
	args := append(syntaxArgs, "--local", name+"="+channelDir, "--opt", "context:"+name+"=local:"+name,
		"--output", imageOutput(repo+":buildctl"), "--metadata-file", m)
	_, progress, err := runErr(15*time.Minute, nil, "buildctl", args...)
	if err != nil {
		t.Fatalf("buildctl %s: %v\n%s", strings.Join(args, " "), err, tail(progress, 40))
	}
	digests["buildctl # syntax="] = metadataDigest(t, m)
	// The archives come from the client's directory, not over HTTP.
	for _, want := range []string{"[context " + name + "] load from client", "download envkit-hello 1.0"} {
		if !strings.Contains(progress, want) {
			t.Errorf("buildctl progress lacks %q:\n%s", want, tail(progress, 60))
		}
	}

	builder := "envkit-fc-" + filepath.Base(t.TempDir())
	run(t, time.Minute, "docker-buildx", "create", "--name", builder, "--driver", "remote", env.BuildkitHost)
	t.Cleanup(func() { runErr(time.Minute, nil, "docker-buildx", "rm", builder) })
	m = meta("buildx")
	run(t, 15*time.Minute, "docker-buildx", "build", "--builder", builder, "--progress", "plain",
		"-f", file, "--provenance=false", "--sbom=false", "--build-arg", "SOURCE_DATE_EPOCH="+epoch,
		"--build-context", name+"="+channelDir,
		"--output", imageOutput(repo+":buildx"), "--metadata-file", m, dir)
	digests["buildx # syntax="] = metadataDigest(t, m)

	// No lock: the frontend reads the channel's repodata from the context.
	if err := os.Remove(filepath.Join(dir, "conda-lock.yml")); err != nil {
		t.Fatal(err)
	}
	m = meta("nolock")
	args = append(syntaxArgs, "--local", name+"="+channelDir, "--opt", "context:"+name+"=local:"+name,
		"--output", imageOutput(repo+":nolock"), "--metadata-file", m)
	if _, progress, err := runErr(15*time.Minute, nil, "buildctl", args...); err != nil {
		t.Fatalf("buildctl without a lock: %v\n%s", err, tail(progress, 40))
	}
	digests["buildctl # syntax= without a lock"] = metadataDigest(t, m)

	// envkit build --frozen refuses to lock; envkit build locks first, as
	// envkit lock would, and builds from the lock it wrote.
	if _, stderr, err := runErr(time.Minute, nil, "envkit", "build", file, "--frozen", "--addr", env.BuildkitHost); err == nil || !strings.Contains(stderr, "--frozen") {
		t.Errorf("envkit build --frozen without a lock: %v\n%s", err, tail(stderr, 5))
	}
	m = meta("locked-first")
	_, stderr, err := runErr(15*time.Minute, nil, "envkit", "build", file, "--addr", env.BuildkitHost, "--progress", "plain",
		"--build-arg", "SOURCE_DATE_EPOCH="+epoch, "--output", imageOutput(repo+":locked-first"), "--metadata-file", m)
	if err != nil || !strings.Contains(stderr, "wrote "+filepath.Join(dir, "conda-lock.yml")) {
		t.Fatalf("envkit build without a lock: %v\n%s", err, tail(stderr, 20))
	}
	digests["envkit build, locking first"] = metadataDigest(t, m)

	want := digests["envkit build"]
	for way, d := range digests {
		if d != want {
			t.Errorf("%s: %s, envkit build: %s", way, d, want)
		}
	}
	checkHello(t, repo+"@"+want)

	_, stderr, err = runErr(5*time.Minute, nil, "buildctl", syntaxArgs...)
	if err == nil {
		t.Fatal("built without the channel's named context")
	}
	for _, flag := range []string{"--build-context " + name + "=" + channelDir, "--opt context:" + name + "=local:" + name} {
		if !strings.Contains(stderr, flag) {
			t.Errorf("the error lacks %q:\n%s", flag, tail(stderr, 20))
		}
	}
}

// TestFileChannelOnePackageChange: packages of a file:// channel are keyed
// by their content, not by the client session that brought them nor by
// the other archives of the transfer, so a second build (a new session,
// another set of archives) with one pin changed copies and links only
// that package again, plus the finalize step.
func TestFileChannelOnePackageChange(t *testing.T) {
	def := offlineExample(t, "file://"+filepath.Join(env.fixtures, "channel"))
	const from, to = "    - envkit-data-01\n", "    - envkit-data-01=1.0\n"
	if !strings.Contains(def, from) {
		t.Fatalf("examples/offline/environment.yml no longer lists %q", strings.TrimSpace(from))
	}
	def = strings.Replace(def, from, to, 1)
	dir := writeFiles(t, map[string]string{"environment.yml": def})
	file := filepath.Join(dir, "environment.yml")
	addr := freshBuilder(t) // no step cached by an earlier test or run
	build := func(tag string) []services.Vertex {
		t.Helper()
		run(t, 2*time.Minute, "envkit", "lock", file)
		args := []string{"build", file, "--addr", addr, "--progress", "json",
			"--build-arg", "SOURCE_DATE_EPOCH=" + epoch,
			"--output", imageOutput(env.Registry + "/envkit/filechannel-change:" + tag)}
		_, stderr, err := runErr(15*time.Minute, nil, "envkit", args...)
		if err != nil {
			t.Fatalf("envkit %s: %v\n%s", strings.Join(args, " "), err, tail(stderr, 40))
		}
		return stepsOf(t, stderr)
	}
	build("1.0")
	if err := os.WriteFile(file, []byte(strings.Replace(def, to, "    - envkit-data-01=1.1\n", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	var ran []string
	links := 0
	for _, s := range build("1.1") {
		kind := stepKind(s.Name)
		if kind == "link" {
			links++
		}
		if kind != "" && s.Ran() {
			ran = append(ran, kind+stepSubject(s.Name))
		}
	}
	slices.Sort(ran)
	if want := []string{"download envkit-data-01 1.1", "finalize environment", "link envkit-data-01 1.1"}; !slices.Equal(ran, want) {
		t.Errorf("second build ran %q, want only %q", ran, want)
	}
	if links != 22 {
		t.Errorf("second build shows %d link steps, want one per package (22)", links)
	}
}
