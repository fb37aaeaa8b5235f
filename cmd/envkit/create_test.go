package main

import (
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/envkit/envkit/internal/conda/lock"
	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/envkit/envkit/internal/conformance"
)

// recipesLock writes a conda-lock v1 file for linux-64 holding the given
// test-recipes packages, with file:// URLs into the conformance channel.
func recipesLock(t *testing.T, fns ...string) string {
	t.Helper()
	dir := conformance.Dir(t, "channels/test-recipes/noarch")
	b, err := os.ReadFile(filepath.Join(dir, "repodata.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		PackagesConda map[string]*repodata.Record `json:"packages.conda"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var recs []*repodata.Record
	for _, fn := range fns {
		r := doc.PackagesConda[fn]
		if r == nil {
			t.Fatalf("%s not in test-recipes", fn)
		}
		r.URL = "file://" + filepath.Join(dir, fn)
		recs = append(recs, r)
	}
	l := &lock.Lock{Metadata: lock.Metadata{Platforms: []string{"linux-64"}, ContentHash: map[string]string{"linux-64": "test"}}, Packages: lock.FromRecords("linux-64", recs)}
	file := filepath.Join(t.TempDir(), "conda-lock.yml")
	if _, err := l.WriteFile(file); err != nil {
		t.Fatal(err)
	}
	return file
}

// runCaptured runs the CLI with stderr captured.
func runCaptured(t *testing.T, args ...string) (int, string) {
	t.Helper()
	return runCapturedContext(t, context.Background(), args...)
}

// runCapturedContext is runCaptured under ctx (cancelled: an interrupt).
func runCapturedContext(t *testing.T, ctx context.Context, args ...string) (int, string) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stderr
	os.Stderr = w
	code := runContext(ctx, args)
	os.Stderr = saved
	w.Close()
	out, _ := io.ReadAll(r)
	return code, string(out)
}

func TestCreateFromLockRunsPostLinkInOrder(t *testing.T) {
	t.Setenv("ENVKIT_PKGS_DIR", t.TempDir())
	lk := recipesLock(t, "post_link-c-1.0-0.conda", "post_link-b-1.0-0.conda", "post_link-d-1.0-0.conda", "post_link-e-1.0-0.conda")
	prefix := filepath.Join(t.TempDir(), "env")
	if code, stderr := runCaptured(t, "create", "--prefix", prefix, "--lock", lk); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if b, err := os.ReadFile(filepath.Join(prefix, "bin/file")); err != nil || string(b) != "test\n" {
		t.Errorf("bin/file: %q %v", b, err)
	}
	hist, _ := os.ReadFile(filepath.Join(prefix, "conda-meta/history"))
	if !strings.Contains(string(hist), "::post_link-e-1.0-0\n+") || strings.Index(string(hist), "post_link-e") > strings.Index(string(hist), "post_link-d") {
		t.Errorf("history (dependency order):\n%s", hist)
	}
}

func TestCreateFailingPostLink(t *testing.T) {
	t.Setenv("ENVKIT_PKGS_DIR", t.TempDir())
	lk := recipesLock(t, "failing_post_link-1.0-0.conda")
	parent := t.TempDir()
	code, stderr := runCaptured(t, "create", "--prefix", filepath.Join(parent, "env"), "--lock", lk)
	if code != 1 || !strings.Contains(stderr, "failing_post_link-1.0-0: post-link script failed (exit status 1) with no output") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if left, _ := os.ReadDir(parent); len(left) != 0 {
		t.Errorf("failed create left %v", left)
	}
}

func TestCreateTwiceIdentical(t *testing.T) {
	t.Setenv("ENVKIT_PKGS_DIR", t.TempDir())
	t.Setenv("SOURCE_DATE_EPOCH", "1600000000")
	lk := recipesLock(t, "post_link-d-1.0-0.conda", "post_link-e-1.0-0.conda", "python-3.99.99-0.conda",
		"sample_noarch_python-1.0-py_0.conda", "small-executable-1.0-0.conda", "dependent-2.0-0.conda", "dependency-2.0-0.conda")
	dirs := []string{filepath.Join(t.TempDir(), "one"), filepath.Join(t.TempDir(), "two")}
	trees := make([]map[string]string, 2)
	for i, d := range dirs {
		if code, stderr := runCaptured(t, "create", "--prefix", d, "--lock", lk); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		trees[i] = map[string]string{}
		filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			rel, _ := filepath.Rel(d, p)
			st, _ := os.Lstat(p)
			var content []byte
			if st.Mode().IsRegular() {
				content, _ = os.ReadFile(p)
			}
			trees[i][rel] = st.Mode().String() + " " + st.ModTime().UTC().String() + " " + string(content)
			return nil
		})
	}
	if len(trees[0]) < 12 {
		t.Fatalf("only %d entries", len(trees[0]))
	}
	for p, a := range trees[0] {
		if b := trees[1][p]; a != b {
			t.Errorf("%s differs:\n%q\n%q", p, a, b)
		}
	}
	for p := range trees[1] {
		if _, ok := trees[0][p]; !ok {
			t.Errorf("%s only in the second", p)
		}
	}
}

func TestCreateUsage(t *testing.T) {
	for _, args := range [][]string{
		{"create", "--lock", "x.yml"},
		{"create", "--prefix", "/tmp/x"},
		{"create", "--prefix", "/tmp/x", "--lock", "x.yml", "python"},
		{"create", "--prefix", "/tmp/x", "--lock", "x.yml", "--channel", "conda-forge"},
	} {
		if code, _ := runCaptured(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

func TestCreateFromSpecs(t *testing.T) {
	t.Setenv("ENVKIT_PKGS_DIR", t.TempDir())
	t.Setenv("ENVKIT_CACHE_DIR", t.TempDir())
	channel := "file://" + conformance.Dir(t, "channels/test-recipes")
	prefix := filepath.Join(t.TempDir(), "env")
	if code, stderr := runCaptured(t, "create", "--prefix", prefix, "--channel", channel, "post_link-c"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	b, err := os.ReadFile(filepath.Join(prefix, "conda-meta/post_link-c-1.0-0.json"))
	if err != nil || !strings.Contains(string(b), `"requested_spec": "post_link-c"`) {
		t.Errorf("record: %s %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(prefix, "conda-meta/post_link-b-1.0-0.json")); err != nil {
		t.Error("the dependency post_link-b was not installed")
	}
}

// The sizes a lock records bound and check the downloads of envkit
// create: a size that is not the archive's fails, naming both.
func TestCreateChecksLockSize(t *testing.T) {
	t.Setenv("ENVKIT_PKGS_DIR", t.TempDir())
	lk := recipesLock(t, "dependency-2.0-0.conda")
	data, err := os.ReadFile(lk)
	if err != nil {
		t.Fatal(err)
	}
	wrong := strings.Replace(string(data), lock.SizesPrefix+"linux-64: dependency=3919\n", lock.SizesPrefix+"linux-64: dependency=3920\n", 1)
	if wrong == string(data) {
		t.Fatalf("no size to change in:\n%s", data)
	}
	if err := os.WriteFile(lk, []byte(wrong), 0o644); err != nil {
		t.Fatal(err)
	}
	parent := t.TempDir()
	code, stderr := runCaptured(t, "create", "--prefix", filepath.Join(parent, "env"), "--lock", lk)
	if code != 1 || !strings.Contains(stderr, "dependency-2.0-0.conda is 3919 bytes, the record says 3920") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if left, _ := os.ReadDir(parent); len(left) != 0 {
		t.Errorf("failed create left %v", left)
	}
}
