//go:build integration

package integration

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"
)

// pushResult is envkit push --json.
type pushResult struct {
	Ref     string `json:"ref"`
	Version int    `json:"version"`
	Hash    string `json:"hash"`
	Created bool   `json:"created"`
}

func pushJSON(t *testing.T, args ...string) pushResult {
	t.Helper()
	out := run(t, time.Minute, "envkit", append([]string{"push", "--json"}, args...)...)
	var res pushResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("envkit push --json %v: %v\n%s", args, err, out)
	}
	return res
}

// failsWith runs envkit and wants exit status 1 with every one of wants in
// its stderr.
func failsWith(t *testing.T, args []string, wants ...string) {
	t.Helper()
	stdout, stderr, err := runErr(time.Minute, nil, "envkit", args...)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Errorf("envkit %s: %v, want exit status 1\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, stdout, stderr)
		return
	}
	for _, w := range wants {
		if !strings.Contains(stderr, w) {
			t.Errorf("envkit %s: stderr %q, want it to say %q", strings.Join(args, " "), stderr, w)
		}
	}
}

// TestRegistryWorkspace registers the examples in the harness registry:
// push, list, pull byte for byte, a same-hash push in another format that
// makes no new version, a changed definition that does, a diff between the
// two versions, and the errors for a non-envkit tag and a missing
// repository.
func TestRegistryWorkspace(t *testing.T) {
	// A repository of its own per run, so -count=N starts from nothing.
	repo := fmt.Sprintf("%s/workspace-%d", env.Registry, time.Now().UnixNano())
	minimal := filepath.Join("..", "examples", "minimal", "environment.yml")
	first := pushJSON(t, minimal, repo)
	if !first.Created || first.Version != 1 || first.Ref != repo+"/minimal:1" {
		t.Fatalf("first push: %+v, want %s/minimal:1 created", first, repo)
	}

	var listed []versionJSONOut
	if err := json.Unmarshal([]byte(run(t, time.Minute, "envkit", "list", "--json", repo)), &listed); err != nil {
		t.Fatal(err)
	}
	if len(listed) != 1 || listed[0].Name != "minimal" || listed[0].Version != 1 || listed[0].Hash != first.Hash {
		t.Fatalf("list: %+v, want minimal version 1 with hash %s", listed, first.Hash)
	}

	pulled := t.TempDir()
	run(t, time.Minute, "envkit", "pull", "-o", pulled, repo+"/minimal")
	assertSameFiles(t, filepath.Dir(minimal), pulled)

	// examples/azureml is the same environment as Azure ML YAML with a
	// conda file: the same hash, so no new version.
	azure := pushJSON(t, "--name", "minimal", filepath.Join("..", "examples", "azureml", "environment.yml"), repo)
	if azure.Created || azure.Version != 1 || azure.Hash != first.Hash {
		t.Fatalf("azureml push under the same name: %+v, want version 1 unchanged with hash %s", azure, first.Hash)
	}

	def, err := os.ReadFile(minimal)
	if err != nil {
		t.Fatal(err)
	}
	changedDef := strings.Replace(string(def), "requests=2.32", "requests=2.31", 1)
	if changedDef == string(def) {
		t.Fatal("examples/minimal no longer pins requests=2.32: update this test")
	}
	changed := writeFiles(t, map[string]string{"environment.yml": changedDef})
	second := pushJSON(t, filepath.Join(changed, "environment.yml"), repo)
	if !second.Created || second.Version != 2 || second.Hash == first.Hash {
		t.Fatalf("changed push: %+v, want version 2 created with a hash other than %s", second, first.Hash)
	}

	var versions []versionJSONOut
	if err := json.Unmarshal([]byte(run(t, time.Minute, "envkit", "versions", "--json", repo+"/minimal")), &versions); err != nil {
		t.Fatal(err)
	}
	if len(versions) != 2 || versions[0].Hash != first.Hash || versions[1].Hash != second.Hash {
		t.Errorf("versions: %+v, want 1 (%s) then 2 (%s)", versions, first.Hash, second.Hash)
	}
	listed = nil
	if err := json.Unmarshal([]byte(run(t, time.Minute, "envkit", "list", "--json", repo)), &listed); err != nil {
		t.Fatal(err)
	}
	if len(listed) != 1 || listed[0].Version != 2 {
		t.Errorf("list after version 2: %+v, want minimal at version 2", listed)
	}
	// Version 1 is still there as pushed.
	pulledFirst := t.TempDir()
	run(t, time.Minute, "envkit", "pull", "-o", pulledFirst, repo+"/minimal:1")
	assertSameFiles(t, filepath.Dir(minimal), pulledFirst)

	diff := run(t, time.Minute, "envkit", "diff", repo+"/minimal:1", repo+"/minimal:2")
	for _, want := range []string{"hash: " + first.Hash + " -> " + second.Hash + " (changed)", "~ requests: requests=2.32 -> requests=2.31"} {
		if !strings.Contains(diff, want) {
			t.Errorf("envkit diff :1 :2 says\n%s\nwant it to mention %q", diff, want)
		}
	}

	// The fixture busybox image is tagged latest, but is no envkit
	// environment; debian's tag is not even a version.
	busybox := env.Registry + "/library/busybox:latest"
	failsWith(t, []string{"pull", "-o", t.TempDir(), busybox}, busybox, "not an envkit environment")
	failsWith(t, []string{"diff", busybox, repo + "/minimal:1"}, "not an envkit environment")
	failsWith(t, []string{"pull", "-o", t.TempDir(), env.Registry + "/library/debian:bookworm-slim"}, `version "bookworm-slim" is not a positive integer or "latest"`)
	failsWith(t, []string{"pull", "-o", t.TempDir(), repo + "/missing"}, repo+"/missing", "not found")
	failsWith(t, []string{"versions", repo + "/missing"}, repo+"/missing", "no such repository")
}

// versionJSONOut is one entry of envkit list --json.
type versionJSONOut struct {
	Name    string `json:"name"`
	Version int    `json:"version"`
	Hash    string `json:"hash"`
}

// assertSameFiles wants got to hold exactly want's regular files, byte
// for byte.
func assertSameFiles(t *testing.T, want, got string) {
	t.Helper()
	wantFiles, gotFiles := readTree(t, want), readTree(t, got)
	if strings.Join(sortedKeys(wantFiles), " ") != strings.Join(sortedKeys(gotFiles), " ") {
		t.Fatalf("pulled files %v, want %v", sortedKeys(gotFiles), sortedKeys(wantFiles))
	}
	for name, data := range wantFiles {
		if gotFiles[name] != data {
			t.Errorf("pulled %s differs from %s", filepath.Join(got, name), filepath.Join(want, name))
		}
	}
}

func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = string(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// inspected is the part of envkit inspect --json this test reads.
type inspected struct {
	ImageKey string   `json:"image_key"`
	Notes    []string `json:"notes"`
	Image    *struct {
		Ref    string `json:"ref"`
		Layers []struct {
			Digest    string   `json:"digest"`
			CreatedBy string   `json:"created_by"`
			Packages  []string `json:"packages"`
		} `json:"layers"`
	} `json:"image"`
	Packages []struct {
		Platform string `json:"platform"`
		Manager  string `json:"manager"`
		Name     string `json:"name"`
		Version  string `json:"version"`
		Build    string `json:"build"`
	} `json:"packages"`
}

func inspectJSON(t *testing.T, args ...string) inspected {
	t.Helper()
	out := run(t, 5*time.Minute, "envkit", append([]string{"inspect", "--json"}, args...)...)
	var in inspected
	if err := json.Unmarshal([]byte(out), &in); err != nil {
		t.Fatalf("envkit inspect --json %v: %v\n%s", args, err, out)
	}
	if in.Image == nil {
		t.Fatalf("envkit inspect --json %v found no image (key %q, notes %q)", args, in.ImageKey, in.Notes)
	}
	return in
}

// condaSubdir is the conda platform of the machine's linux images.
func condaSubdir(t *testing.T) string {
	switch runtime.GOARCH {
	case "amd64":
		return "linux-64"
	case "arm64":
		return "linux-aarch64"
	}
	t.Fatalf("no conda platform known for %s", runtime.GOARCH)
	return ""
}

// TestInspectBuiltImage builds the offline example, pushes it under its
// image key and has inspect find it by key: the conda packages read from
// the package layers' conda-meta records are the lock's, each in one
// layer, and the same per layer as the layers' history says.
func TestInspectBuiltImage(t *testing.T) {
	dir := writeFiles(t, map[string]string{"environment.yml": offlineExample(t, env.channel)})
	file := filepath.Join(dir, "environment.yml")
	run(t, 2*time.Minute, "envkit", "lock", file)
	repo := env.Registry + "/envkit/offline"
	run(t, 15*time.Minute, "envkit", "build", file, "--addr", env.BuildkitHost, "--push", repo, "--progress", "plain")

	common := []string{file, "--images", repo, "--mirror", "docker.io=" + env.Registry}
	fromLayers := inspectJSON(t, append(common, "--read-layers")...)
	fromHistory := inspectJSON(t, common...)

	subdir := condaSubdir(t)
	var locked []string
	for _, p := range fromLayers.Packages {
		if p.Manager == "conda" && p.Platform == subdir {
			locked = append(locked, p.Name+"-"+p.Version+"-"+p.Build)
		}
	}
	if len(locked) < 22 {
		t.Fatalf("the lock holds %d conda packages for %s, want the example's 22 at least: %v", len(locked), subdir, locked)
	}
	// Each package layer (history "envkit link …") holds the records of
	// the packages its history names. The finalize layer rewrites the
	// records of noarch: python packages (it adds their .pyc files);
	// inspect keeps a package with the layer that first brings it, so no
	// other layer lists one.
	inLayers := map[string]string{} // package → package layer digest
	for i, l := range fromLayers.Image.Layers {
		h := fromHistory.Image.Layers[i]
		if !strings.HasPrefix(h.CreatedBy, "envkit link ") || strings.HasPrefix(h.CreatedBy, "envkit link --") {
			if len(l.Packages) > 0 {
				t.Errorf("layer %d (%s, %q) lists packages %v that a package layer brought", i+1, l.Digest, h.CreatedBy, l.Packages)
			}
			continue
		}
		if strings.Join(h.Packages, " ") != strings.Join(l.Packages, " ") {
			t.Errorf("layer %d (%s): conda-meta records %v, history says %v", i+1, l.Digest, l.Packages, h.Packages)
		}
		for _, p := range l.Packages {
			if other, dup := inLayers[p]; dup {
				t.Errorf("%s in package layers %s and %s", p, other, l.Digest)
			}
			inLayers[p] = l.Digest
		}
	}
	sort.Strings(locked)
	if got := sortedKeys(inLayers); strings.Join(got, " ") != strings.Join(locked, " ") {
		t.Fatalf("packages in the image's layers:\n%v\nthe lock's %s conda packages:\n%v", got, subdir, locked)
	}
	t.Logf("%d locked packages in %d layers of %s", len(locked), len(fromLayers.Image.Layers), fromLayers.Image.Ref)
}

// curatedChannel serves, on 127.0.0.1, the fixture channel plus a stand-in
// pip 24.2 (noarch: generic, one marker file): curated/python pins
// pip=24.2, which the offline fixture channel lacks. It returns the URL.
func curatedChannel(t *testing.T) string {
	t.Helper()
	fixture := filepath.Join(env.fixtures, "channel")
	dir := t.TempDir()
	for _, subdir := range []string{"linux-64", "noarch"} {
		entries, err := os.ReadDir(filepath.Join(fixture, subdir))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, subdir), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Name() != "repodata.json" {
				if err := os.Symlink(filepath.Join(fixture, subdir, e.Name()), filepath.Join(dir, subdir, e.Name())); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	copyRepodata := func(subdir string, add map[string]map[string]any) {
		b, err := os.ReadFile(filepath.Join(fixture, subdir, "repodata.json"))
		if err != nil {
			t.Fatal(err)
		}
		var repodata map[string]any
		if err := json.Unmarshal(b, &repodata); err != nil {
			t.Fatal(err)
		}
		packages := repodata["packages"].(map[string]any)
		for fn, rec := range add {
			packages[fn] = rec
		}
		if b, err = json.Marshal(repodata); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, subdir, "repodata.json"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	copyRepodata("linux-64", nil)
	fn, rec := standInPip(t, filepath.Join(dir, "noarch"))
	copyRepodata("noarch", map[string]map[string]any{fn: rec})

	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(srv.Close)
	return srv.URL
}

// standInPip archives the stand-in pip with cph into outDir and returns
// its file name and repodata record.
func standInPip(t *testing.T, outDir string) (string, map[string]any) {
	t.Helper()
	index := map[string]any{
		"name": "pip", "version": "24.2", "build": "0", "build_number": 0,
		"subdir": "noarch", "noarch": "generic", "depends": []string{"python >=3.8"}, "license": "MIT",
	}
	marker := "stand-in for conda-forge's pip in envkit's offline tests\n"
	markerSum := sha256.Sum256([]byte(marker))
	const markerPath = "share/envkit-test/pip-stand-in"
	pkgDir := t.TempDir()
	info := map[string]any{
		"info/index.json": index,
		"info/paths.json": map[string]any{"paths_version": 1, "paths": []map[string]any{
			{"_path": markerPath, "path_type": "hardlink", "sha256": hex.EncodeToString(markerSum[:]), "size_in_bytes": len(marker)},
		}},
	}
	files := map[string][]byte{markerPath: []byte(marker), "info/files": []byte(markerPath + "\n")}
	for name, v := range info {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		files[name] = b
	}
	for name, b := range files {
		p := filepath.Join(pkgDir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	list := filepath.Join(t.TempDir(), "files")
	if err := os.WriteFile(list, []byte(strings.Join([]string{"info/files", "info/index.json", "info/paths.json", markerPath}, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const fn = "pip-24.2-0.tar.bz2"
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "cph", "create", "--file-list", list, "--out-folder", outDir, pkgDir, fn).CombinedOutput(); err != nil {
		t.Fatalf("cph create: %v\n%s", err, out)
	}
	data, err := os.ReadFile(filepath.Join(outDir, fn))
	if err != nil {
		t.Fatal(err)
	}
	m, s := md5.Sum(data), sha256.Sum256(data)
	index["md5"], index["sha256"], index["size"] = hex.EncodeToString(m[:]), hex.EncodeToString(s[:]), len(data)
	return fn, index
}

// TestCuratedBuilds extends curated/python with a python=3.11 pin (the
// extending definition's pin wins), maps conda-forge to a local channel,
// locks, builds and runs python in the image, with the curated
// environment variables and pip in it.
func TestCuratedBuilds(t *testing.T) {
	mirrors := []string{"ENVKIT_CHANNEL_MIRRORS=conda-forge=" + curatedChannel(t)}
	dir := writeFiles(t, map[string]string{"environment.yml": "name: my-python\nfrom: curated/python\nconda:\n  dependencies:\n    - python=3.11\n"})
	file := filepath.Join(dir, "environment.yml")
	envkit := func(timeout time.Duration, args ...string) string {
		t.Helper()
		out, errOut, err := runErr(timeout, mirrors, "envkit", args...)
		if err != nil {
			t.Fatalf("envkit %s: %v\n%s", strings.Join(args, " "), err, tail(errOut, 40))
		}
		return out
	}
	envkit(2*time.Minute, "lock", file)
	if diff := envkit(time.Minute, "diff", "curated/python", file); !strings.Contains(diff, "~ python: python=3.12 -> python=3.11") {
		t.Errorf("envkit diff curated/python %s says\n%s\nwant python re-pinned from 3.12 to 3.11", file, diff)
	}
	repo := env.Registry + "/envkit/curated-python"
	meta := filepath.Join(dir, "meta.json")
	envkit(15*time.Minute, "build", file, "--addr", env.BuildkitHost, "--push", repo, "--progress", "plain", "--metadata-file", meta)
	image := repo + "@" + metadataDigest(t, meta)
	got := runIn(t, image, `{
python -c 'import sys; print(sys.version_info[:2])'
echo "$LANG $PYTHONUNBUFFERED"
cat "$CONDA_PREFIX/share/envkit-test/pip-stand-in"
ls "$CONDA_PREFIX/conda-meta" | grep -c '\.json$'
} > $OUT/result 2>&1`)
	want := "(3, 11)\nC.UTF-8 1\nstand-in for conda-forge's pip in envkit's offline tests\n2\n"
	if got != want {
		t.Fatalf("in %s:\n%s\nwant\n%s", image, got, want)
	}
}
