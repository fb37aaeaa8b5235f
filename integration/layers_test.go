//go:build integration

package integration

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"
)

// manifestLayers counts the layers of ref's image manifest for this
// machine's linux platform, read from the registry with skopeo (an index
// is followed to that platform's manifest).
func manifestLayers(t *testing.T, ref string) int {
	t.Helper()
	raw := skopeoRaw(t, ref)
	var m struct {
		MediaType string            `json:"mediaType"`
		Layers    []json.RawMessage `json:"layers"`
		Manifests []struct {
			Digest   string `json:"digest"`
			Platform *struct {
				OS           string `json:"os"`
				Architecture string `json:"architecture"`
			} `json:"platform"`
		} `json:"manifests"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: %v\n%s", ref, err, raw)
	}
	if len(m.Manifests) == 0 {
		return len(m.Layers)
	}
	repo, _, _ := strings.Cut(ref, "@")
	if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
		repo = repo[:i]
	}
	for _, d := range m.Manifests {
		if d.Platform != nil && d.Platform.OS == "linux" && d.Platform.Architecture == runtime.GOARCH {
			return manifestLayers(t, repo+"@"+d.Digest)
		}
	}
	t.Fatalf("%s: no linux/%s manifest in the index:\n%s", ref, runtime.GOARCH, raw)
	return 0
}

func skopeoRaw(t *testing.T, ref string) []byte {
	t.Helper()
	cmd := execIn(t.Context(), ".", "skopeo", "inspect", "--raw", "--tls-verify=false", "docker://"+ref)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("skopeo inspect --raw %s: %v", ref, err)
	}
	return out
}

// TestLayerBudget builds the offline example (22 conda packages) with a
// budget of 5 package layers: the pushed image has the base's layers, 5
// package layers (the largest package's own step, four groups each linked
// in one step) and the finalize layer, and the environment in it is whole.
func TestLayerBudget(t *testing.T) {
	dir := writeFiles(t, map[string]string{"environment.yml": offlineExample(t, env.channel)})
	file := filepath.Join(dir, "environment.yml")
	run(t, 2*time.Minute, "envkit", "lock", file)
	repo := env.Registry + "/envkit/layer-budget"
	meta := filepath.Join(dir, "meta.json")
	_, progress, err := runErr(15*time.Minute, nil, "envkit", "build", file, "--addr", env.BuildkitHost, "--push", repo,
		"--progress", "plain", "--metadata-file", meta, "--build-arg", "ENVKIT_PACKAGE_LAYERS=5")
	if err != nil {
		t.Fatalf("envkit build: %v\n%s", err, tail(progress, 40))
	}
	image := repo + "@" + metadataDigest(t, meta)

	base := manifestLayers(t, env.Registry+"/library/debian:bookworm-slim")
	layers := manifestLayers(t, image)
	if want := base + 5 + 1; layers != want {
		t.Errorf("%s has %d layers, want %d (base %d + 5 package layers + finalize)", image, layers, want, base)
	}
	t.Logf("%s: %d layers, the base's %d", image, layers, base)

	want := []string{"envkit-hello", "python"}
	for i := 1; i <= 20; i++ {
		want = append(want, fmt.Sprintf("envkit-data-%02d", i))
	}
	sort.Strings(want)
	got := runIn(t, image, `{
for f in "$CONDA_PREFIX"/conda-meta/*.json; do basename "$f" .json; done
echo ---
envkit-hello
} > $OUT/result 2>&1`)
	records, hello, _ := strings.Cut(got, "---\n")
	var names []string
	for _, r := range strings.Fields(records) {
		// name-version-build: the name is all but the last two fields.
		parts := strings.Split(r, "-")
		if len(parts) < 3 {
			t.Fatalf("conda-meta record %q is not name-version-build", r)
		}
		names = append(names, strings.Join(parts[:len(parts)-2], "-"))
	}
	sort.Strings(names)
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("conda-meta records in the image:\n%v\nwant the 22 packages:\n%v", names, want)
	}
	if strings.TrimSpace(hello) != "hello from envkit-hello" {
		t.Errorf("envkit-hello in the image printed %q", hello)
	}
	// The lock records the archives' sizes: the largest package (python)
	// keeps the step it has within a budget (5/4 = 1 such layer, first),
	// the other 21 share the four other groups by name.
	if !regexp.MustCompile(`\[conda \d+/22\] link python `).MatchString(progress) {
		t.Errorf("no link step of its own for python, the largest package, in the build output")
	}
	for i := 2; i <= 5; i++ {
		if !strings.Contains(progress, fmt.Sprintf("[conda group %d/5] link ", i)) {
			t.Errorf("no progress line for [conda group %d/5] in the build output", i)
		}
	}
}
