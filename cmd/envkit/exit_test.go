package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/envkit/envkit/internal/conformance"
)

// A panic in a command is an internal error: exit 1 with a message that
// says so, not Go's exit 2 (a usage error).
func TestPanicExitsOne(t *testing.T) {
	saved := commands
	t.Cleanup(func() { commands = saved })
	commands = append(commands[:len(commands):len(commands)], func() *cobra.Command {
		return &cobra.Command{Use: "boom", RunE: func(*cobra.Command, []string) error {
			var m map[string]int
			m["x"] = 1 // a nil map: a runtime panic
			return nil
		}}
	})
	code, stderr := runCaptured(t, "boom")
	if code != 1 || !strings.Contains(stderr, "envkit: internal error (a bug in envkit") || !strings.Contains(stderr, "assignment to entry in nil map") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

// recipesChannel serves one test-recipes package over HTTP as channel /c,
// its record changed by edit; the package request goes to pkg.
func recipesChannel(t *testing.T, fn string, edit func(*repodata.Record), pkg http.HandlerFunc) string {
	t.Helper()
	dir := conformance.Dir(t, "channels/test-recipes/noarch")
	b, err := os.ReadFile(filepath.Join(dir, "repodata.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		PackagesConda map[string]json.RawMessage `json:"packages.conda"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var rec repodata.Record
	if err := json.Unmarshal(doc.PackagesConda[fn], &rec); err != nil {
		t.Fatal(err)
	}
	edit(&rec)
	rd, err := json.Marshal(map[string]any{"info": map[string]string{"subdir": "noarch"}, "packages.conda": map[string]any{fn: rec}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/c/noarch/repodata.json":
			w.Write(rd)
		case "/c/noarch/" + fn:
			pkg(w, r)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/c"
}

// A record without sha256 and md5 is refused, the error naming the
// package and --allow-unverified; with the flag it installs.
func TestCreateRefusesUnverified(t *testing.T) {
	t.Setenv("ENVKIT_PKGS_DIR", t.TempDir())
	t.Setenv("ENVKIT_CACHE_DIR", t.TempDir())
	const fn = "dependency-1.0-0.conda"
	archive := filepath.Join(conformance.Dir(t, "channels/test-recipes/noarch"), fn)
	ch := recipesChannel(t, fn, func(r *repodata.Record) { r.SHA256, r.MD5 = "", "" }, func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, archive)
	})
	prefix := filepath.Join(t.TempDir(), "env")
	code, stderr := runCaptured(t, "create", "--prefix", prefix, "--channel", ch, "dependency")
	if code != 1 || !strings.Contains(stderr, fn) || !strings.Contains(stderr, "no sha256 and no md5") || !strings.Contains(stderr, "--allow-unverified") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(prefix); !os.IsNotExist(err) {
		t.Errorf("the prefix exists after the refusal: %v", err)
	}
	if code, stderr := runCaptured(t, "create", "--prefix", prefix, "--channel", ch, "--allow-unverified", "dependency"); code != 0 {
		t.Fatalf("--allow-unverified: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(prefix, "conda-meta", "dependency-1.0-0.json")); err != nil {
		t.Error(err)
	}
}

// An interrupt (the command's context cancelled, as SIGINT and SIGTERM
// do) while a package downloads exits 130 and leaves nothing: no prefix,
// no temporary directory beside it, no partial download in the cache.
func TestCreateInterrupted(t *testing.T) {
	pkgs := t.TempDir()
	t.Setenv("ENVKIT_PKGS_DIR", pkgs)
	t.Setenv("ENVKIT_CACHE_DIR", t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	release := make(chan struct{})
	ch := recipesChannel(t, "dependency-1.0-0.conda", func(*repodata.Record) {}, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("PK\x03\x04 the first bytes"))
		w.(http.Flusher).Flush()
		cancel() // the interrupt arrives mid-download
		<-release
	})
	defer close(release)
	parent := t.TempDir()
	code, stderr := runCapturedContext(t, ctx, "create", "--prefix", filepath.Join(parent, "env"), "--channel", ch, "dependency")
	if code != 130 || !strings.Contains(stderr, "stopped") {
		t.Errorf("exit %d, stderr %q; want 130", code, stderr)
	}
	if left, _ := os.ReadDir(parent); len(left) > 0 {
		t.Errorf("left %v beside the prefix", left)
	}
	filepath.WalkDir(pkgs, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			t.Errorf("left %s in the package cache", p)
		}
		return nil
	})
}

// A channel whose server keeps failing (5xx after the retries) gets the
// mirror hint, as one that cannot be reached does.
func TestSolveServerErrorMirrorHint(t *testing.T) {
	t.Setenv("ENVKIT_CACHE_DIR", t.TempDir())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusBadGateway)
	}))
	defer srv.Close()
	code, stderr := runCaptured(t, "solve", "--channel", srv.URL+"/c", "python")
	if code != 1 || !strings.Contains(stderr, "502 Bad Gateway") || !strings.Contains(stderr, "ENVKIT_CHANNEL_MIRRORS=CHANNEL=URL") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}
