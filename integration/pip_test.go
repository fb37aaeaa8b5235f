//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/buildkit/client"

	"github.com/envkit/envkit/hack/fixtures"
)

// pipServer serves the fixtures' wheel index and Maven repository on
// 127.0.0.1 and returns its URL and a function that returns (and forgets)
// the wheels and jars fetched since its last call, sorted: BuildKit shows
// a download step even when it only computed its key.
func pipServer(t *testing.T) (string, func() []string) {
	t.Helper()
	if err := fixtures.BuildPip(context.Background(), env.fixtures); err != nil {
		t.Fatal(err)
	}
	files := http.FileServer(http.Dir(filepath.Join(env.fixtures, fixtures.PipDirName)))
	var mu sync.Mutex
	var fetched []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if base := path.Base(r.URL.Path); r.Method == http.MethodGet && (strings.HasSuffix(base, ".whl") || strings.HasSuffix(base, ".jar")) {
			mu.Lock()
			fetched = append(fetched, base)
			mu.Unlock()
		}
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func() []string {
		mu.Lock()
		defer mu.Unlock()
		got := fetched
		fetched = nil
		slices.Sort(got)
		return got
	}
}

// pipDefinition is python from the fixture channel, a pip part from the
// fixture index (pip itself too, Debian's wheel, so that pip list runs in
// the image) and a precached Spark package from the fixture Maven
// repository.
func pipDefinition(channel, server, colour string) string {
	return `name: pip-demo
base:
  image: docker.io/library/debian:bookworm-slim
conda:
  channels:
    - ` + channel + `
  dependencies:
    - python=3.11
    - pip:
      - --index-url ` + server + `/simple
      - envkit-greet
      - envkit-colour==` + colour + `
      - pip
spark:
  repositories: [` + server + `/maven2]
  packages:
    - {group: org.envkit, artifact: demo-util, version: "1.0"}
  precache: true
`
}

// TestPipAndSpark is issue 7's build acceptance: conda + pip + Spark
// lock, build and run; a changed pip pin reruns only that wheel's steps;
// a wheel whose lock sha256 was altered fails the build naming it.
func TestPipAndSpark(t *testing.T) {
	server, fetched := pipServer(t)
	dir := writeFiles(t, map[string]string{"environment.yml": pipDefinition(env.channel, server, "1.0")})
	file := filepath.Join(dir, "environment.yml")
	addr := freshBuilder(t)
	meta := filepath.Join(t.TempDir(), "meta.json")
	buildOn := func(addr, tag string) (string, error) {
		t.Helper()
		args := []string{"build", file, "--addr", addr, "--progress", "json", "--metadata-file", meta,
			"--build-arg", "SOURCE_DATE_EPOCH=" + epoch,
			"--output", imageOutput(env.Registry + "/envkit/pip-demo:" + tag)}
		_, stderr, err := runErr(15*time.Minute, nil, "envkit", args...)
		return stderr, err
	}
	build := func(tag string) (string, error) { return buildOn(addr, tag) }

	// (a), (c): lock, build, run.
	run(t, 2*time.Minute, "envkit", "lock", file)
	fetched() // what envkit lock read (wheel metadata, jars to pin)
	lockData, err := os.ReadFile(filepath.Join(dir, "conda-lock.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"manager: pip", "envkit_colour-1.0-py3-none-any.whl", "envkit_greet-1.0-py3-none-any.whl", "spark-jar:org.envkit:demo-core:2.0"} {
		if !strings.Contains(string(lockData), want) {
			t.Fatalf("conda-lock.yml lacks %q:\n%s", want, lockData)
		}
	}
	if stderr, err := build("1.0"); err != nil {
		t.Fatalf("first build: %v\n%s", err, tail(stderr, 40))
	}
	if got, want := fetched(), []string{"demo-core-2.0.jar", "demo-util-1.0.jar", "envkit_colour-1.0-py3-none-any.whl", "envkit_greet-1.0-py3-none-any.whl", "pip-23.0.1-py3-none-any.whl"}; !slices.Equal(got, want) {
		t.Errorf("first build fetched %q, want %q", got, want)
	}
	got := runIn(t, env.Registry+"/envkit/pip-demo:1.0", `{
python -c 'import envkit_greet, envkit_colour; print(envkit_colour.__version__)'
envkit-greet
python -c 'import importlib.metadata as m; print(sorted((d.metadata["Name"], d.version, d.read_text("INSTALLER").strip()) for d in m.distributions() if d.metadata["Name"].startswith("envkit-")))'
python -m pip list --disable-pip-version-check --no-index 2>/dev/null | grep -E '^(envkit-|pip )'
ls "$CONDA_PREFIX/lib/python3.11/site-packages/envkit_colour/__pycache__"
grep -c __pycache__ "$CONDA_PREFIX/lib/python3.11/site-packages/envkit_colour-1.0.dist-info/RECORD"
ls "$CONDA_PREFIX/share/envkit/spark/jars"
cat "$SPARK_CONF_DIR/spark-defaults.conf"
} > $OUT/result 2>&1`)
	want := "1.0\ngreetings in red\n[('envkit-colour', '1.0', 'envkit'), ('envkit-greet', '1.0', 'envkit')]\n" +
		"envkit-colour 1.0\nenvkit-greet  1.0\npip           23.0.1\n__init__.cpython-311.pyc\nnames.cpython-311.pyc\n2\ndemo-core-2.0.jar\ndemo-util-1.0.jar\n" +
		"# Written by envkit from the definition's spark section.\nspark.jars /opt/conda/share/envkit/spark/jars/demo-core-2.0.jar,/opt/conda/share/envkit/spark/jars/demo-util-1.0.jar\n"
	if got != want {
		t.Errorf("in the image:\n%s\nwant:\n%s", got, want)
	}

	// (b): a changed pin reruns its own download and install only.
	if err := os.WriteFile(file, []byte(pipDefinition(env.channel, server, "1.1")), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, 2*time.Minute, "envkit", "lock", file)
	fetched()
	stderr, err := build("1.1")
	if err != nil {
		t.Fatalf("second build: %v\n%s", err, tail(stderr, 40))
	}
	if got, want := fetched(), []string{"envkit_colour-1.1-py3-none-any.whl"}; !slices.Equal(got, want) {
		t.Errorf("second build fetched %q, want only %q", got, want)
	}
	var ran []string
	installs := 0
	for _, s := range stepsOf(t, stderr) {
		if strings.Contains(s.Name, "] install ") {
			installs++
		}
		if s.Ran() && (strings.Contains(s.Name, "] install ") || strings.Contains(s.Name, "] link ") || strings.Contains(s.Name, "finalize environment")) {
			ran = append(ran, s.Name)
		}
	}
	if want := []string{"[pip 1/3] install envkit-colour 1.1"}; !slices.Equal(ran, want) || installs != 3 {
		t.Errorf("second build ran %q of %d install steps, want only %q of 3", ran, installs, want)
	}
	if got := runIn(t, env.Registry+"/envkit/pip-demo:1.1", `envkit-greet > $OUT/result 2>&1`); got != "greetings in rouge\n" {
		t.Errorf("envkit-greet after the pin change: %q", got)
	}

	// The wheel layers (.pyc included) and the Spark layer are
	// reproducible: another builder with an empty cache makes the same
	// image.
	digest := metadataDigest(t, meta)
	if stderr, err := buildOn(freshBuilder(t), "1.1-again"); err != nil {
		t.Fatalf("build on a second builder: %v\n%s", err, tail(stderr, 40))
	}
	if again := metadataDigest(t, meta); again != digest {
		t.Errorf("a second builder made %s, the first %s", again, digest)
	}
	fetched()

	// (d): a wheel whose sha256 in the lock was altered fails the build,
	// naming the wheel.
	lockPath := filepath.Join(dir, "conda-lock.yml")
	lockData, err = os.ReadFile(lockPath)
	if err != nil {
		t.Fatal(err)
	}
	entry := regexp.MustCompile(`(?s)url: [^\n]*envkit_colour-1\.1-py3-none-any\.whl\n  hash:\n    sha256: ([0-9a-f]{64})`).FindSubmatch(lockData)
	if entry == nil {
		t.Fatalf("no sha256 for envkit_colour-1.1 in the lock:\n%s", lockData)
	}
	altered := strings.Replace(string(lockData), string(entry[1]), strings.Repeat("0", 64), 1)
	if err := os.WriteFile(lockPath, []byte(altered), 0o644); err != nil {
		t.Fatal(err)
	}
	stderr, err = build("altered")
	if err == nil {
		t.Fatal("a wheel with an altered sha256 built")
	}
	failed := failedSteps(t, stderr)
	wantFail := "[pip 1/3] download envkit-colour 1.1 (envkit_colour-1.1-py3-none-any.whl): digest mismatch"
	if len(failed) != 1 || !strings.HasPrefix(failed[0], wantFail) || !strings.Contains(tail(stderr, 1), "digest mismatch") {
		t.Errorf("failed steps %q, want one starting %q\n%s", failed, wantFail, tail(stderr, 1))
	}
	if got := fetched(); !slices.Equal(got, []string{"envkit_colour-1.1-py3-none-any.whl"}) {
		t.Errorf("the altered build fetched %q", got)
	}
}

// failedSteps lists "NAME: ERROR" of the vertices that failed in a
// build's JSON progress.
func failedSteps(t *testing.T, progress string) []string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(progress, "\n") {
		var ss client.SolveStatus
		if json.Unmarshal([]byte(line), &ss) != nil {
			continue
		}
		for _, v := range ss.Vertexes {
			if v.Error != "" {
				out = append(out, v.Name+": "+v.Error)
			}
		}
	}
	return out
}
