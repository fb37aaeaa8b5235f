//go:build integration

package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/envkit/envkit/internal/conda/lock"
)

// TestImageKeyCLIThenSyntax pushes an image with envkit build --push REPO,
// then builds the same context through the # syntax= line with buildctl
// and ENVKIT_IMAGE_CACHE=REPO: the frontend looks up the tag envkit build
// pushed and reuses the image, with no step run and the same digest. Only
// envkit build pushes the key tag (an exporter's names come from the
// client), so the other order has no tag to find.
func TestImageKeyCLIThenSyntax(t *testing.T) {
	dir := syntaxContext(t, helloDefinition(env.channel))
	file := filepath.Join(dir, "environment.yml")
	repo := env.Registry + "/envkit/imagekey"
	meta := filepath.Join(t.TempDir(), "cli.json")
	run(t, 15*time.Minute, "envkit", "build", file, "--addr", env.BuildkitHost, "--push", repo,
		"--progress", "plain", "--metadata-file", meta, "--build-arg", "SOURCE_DATE_EPOCH="+epoch)
	pushed := metadataDigest(t, meta)
	key := metadataString(t, meta, "envkit.image-key")

	// envkit inspect shows the key a build pushes, with the build's
	// arguments (here a package layer budget) too.
	inspectKey := func(args ...string) string {
		out := run(t, time.Minute, "envkit", append([]string{"inspect", "--json", "--mirror", "docker.io=" + env.Registry}, append(args, file)...)...)
		var got struct {
			Key string `json:"image_key"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		return got.Key
	}
	if got := inspectKey(); got != key {
		t.Errorf("envkit inspect: key %s, envkit build pushed %s", got, key)
	}
	budgetMeta := filepath.Join(t.TempDir(), "budget.json")
	run(t, 15*time.Minute, "envkit", "build", file, "--addr", env.BuildkitHost, "--push", repo, "--progress", "plain",
		"--metadata-file", budgetMeta, "--build-arg", "SOURCE_DATE_EPOCH="+epoch, "--build-arg", "ENVKIT_PACKAGE_LAYERS=5")
	if got, want := inspectKey("--build-arg", "ENVKIT_PACKAGE_LAYERS=5"), metadataString(t, budgetMeta, "envkit.image-key"); got != want || got == key {
		t.Errorf("ENVKIT_PACKAGE_LAYERS=5: envkit inspect key %s, envkit build pushed %s (default budget %s)", got, want, key)
	}

	meta = filepath.Join(t.TempDir(), "syntax.json")
	_, progress, err := runErr(15*time.Minute, nil, "buildctl", "--addr", env.BuildkitHost, "build", "--progress", "rawjson",
		"--frontend", "dockerfile.v0", "--local", "context="+dir, "--local", "dockerfile="+dir, "--opt", "filename=environment.yml",
		"--opt", "build-arg:SOURCE_DATE_EPOCH="+epoch, "--opt", "build-arg:ENVKIT_IMAGE_CACHE="+repo,
		"--output", imageOutput(env.Registry+"/envkit/imagekey-syntax:reused"), "--metadata-file", meta)
	if err != nil {
		t.Fatalf("buildctl # syntax=: %v\n%s", err, tail(progress, 40))
	}
	if !strings.Contains(progress, "[envkit] reuse "+repo+":"+key+"@") {
		t.Errorf("the frontend did not reuse %s:%s (the key envkit build pushed)", repo, key)
	}
	if ran, cached := execSteps(t, progress); len(ran) != 0 || cached != 0 {
		t.Errorf("the reuse ran %q and took %d steps from the cache, want no step at all", ran, cached)
	}
	if got := metadataDigest(t, meta); got != pushed {
		t.Errorf("buildctl # syntax= made %s, envkit build pushed %s", got, pushed)
	}

	// The key is read with the build's lock checks: with --frozen (no
	// relock) a stale lock fails the lookup with the frontend's message,
	// before anything is built.
	def, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(strings.Replace(string(def), "python=3.11", "python=3.11.2", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, err := runErr(2*time.Minute, nil, "envkit", "build", file, "--frozen", "--addr", env.BuildkitHost, "--push", repo, "--progress", "plain")
	if err == nil || !strings.Contains(stderr, "conda-lock.yml: stale for") || strings.Contains(stderr, "] link ") {
		t.Errorf("envkit build --frozen --push with a stale lock: %v\n%s", err, tail(stderr, 5))
	}
}

// TestImageKeyFailedDownloadIsNamed builds a lock whose sha256 for one
// conda package is wrong: the build's last error line names that
// package's download, in envkit build and through # syntax= with buildctl.
func TestImageKeyFailedDownloadIsNamed(t *testing.T) {
	dir := syntaxContext(t, helloDefinition(env.channel))
	lockPath := filepath.Join(dir, "conda-lock.yml")
	data, err := os.ReadFile(lockPath)
	if err != nil {
		t.Fatal(err)
	}
	lk, err := lock.Read(lockPath, data)
	if err != nil {
		t.Fatal(err)
	}
	altered := false
	for i := range lk.Packages {
		if p := &lk.Packages[i]; p.Name == "envkit-hello" {
			p.Hash.SHA256 = strings.Repeat("0", 64)
			altered = true
		}
	}
	if !altered {
		t.Fatal("envkit-hello not in the lock")
	}
	if data, err = lk.Marshal(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(lockPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
	check := func(way, stderr string) {
		t.Helper()
		last := tail(stderr, 1)
		t.Logf("%s: %s", way, last)
		if !strings.Contains(last, "] download envkit-hello 1.0: ") || !strings.Contains(last, "digest mismatch") {
			t.Errorf("%s: last line %q, want it to name the download of envkit-hello and the digest mismatch", way, last)
		}
	}
	_, stderr, err := runErr(10*time.Minute, nil, "envkit", "build", filepath.Join(dir, "environment.yml"), "--addr", env.BuildkitHost, "--progress", "plain")
	if err == nil {
		t.Fatal("envkit build of a lock with a wrong sha256 succeeded")
	}
	check("envkit build", stderr)
	_, stderr, err = runErr(10*time.Minute, nil, "buildctl", "--addr", env.BuildkitHost, "build", "--progress", "plain",
		"--frontend", "dockerfile.v0", "--local", "context="+dir, "--local", "dockerfile="+dir, "--opt", "filename=environment.yml")
	if err == nil {
		t.Fatal("buildctl # syntax= of a lock with a wrong sha256 succeeded")
	}
	check("buildctl # syntax=", stderr)
}

// metadataString reads one string of a --metadata-file.
func metadataString(t *testing.T, path, key string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	s, _ := m[key].(string)
	if s == "" {
		t.Fatalf("%s: no %s in %s", path, key, b)
	}
	return s
}
