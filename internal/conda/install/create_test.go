package install

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/envkit/envkit/internal/conda/pkg"
	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/envkit/envkit/internal/conformance"
)

// channelRecords reads a conformance channel subdir's repodata.json into
// records with file:// URLs, keyed by file name.
func channelRecords(t *testing.T, channel, subdir string) map[string]*repodata.Record {
	t.Helper()
	dir := conformance.Dir(t, "channels", channel, subdir)
	b, err := os.ReadFile(filepath.Join(dir, "repodata.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Packages      map[string]*repodata.Record `json:"packages"`
		PackagesConda map[string]*repodata.Record `json:"packages.conda"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]*repodata.Record{}
	for _, m := range []map[string]*repodata.Record{doc.Packages, doc.PackagesConda} {
		for fn, r := range m {
			r.Filename, r.URL, r.Channel = fn, "file://"+filepath.Join(dir, fn), "file://"+filepath.Dir(dir)
			out[fn] = r
		}
	}
	return out
}

func pick(t *testing.T, recs map[string]*repodata.Record, fns ...string) []*repodata.Record {
	var out []*repodata.Record
	for _, fn := range fns {
		r, ok := recs[fn]
		if !ok {
			t.Fatalf("%s not in the channel", fn)
		}
		out = append(out, r)
	}
	return out
}

func createOpts(t *testing.T, prefix string) CreateOptions {
	return CreateOptions{Prefix: prefix, Cache: &pkg.Cache{Dir: filepath.Join(t.TempDir(), "pkgs")}, Epoch: time.Unix(0, 0), Command: "envkit create"}
}

func TestCreatePostLinkScripts(t *testing.T) {
	recs := channelRecords(t, "test-recipes", "noarch")
	prefix := filepath.Join(t.TempDir(), "env")
	err := Create(context.Background(), pick(t, recs, "post_link-c-1.0-0.conda", "post_link-b-1.0-0.conda", "post_link-d-1.0-0.conda", "post_link-e-1.0-0.conda"), createOpts(t, prefix))
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(prefix, "bin", "file")); err != nil || string(b) != "test\n" {
		t.Errorf("bin/file: %q %v", b, err)
	}
}

func TestCreateFailingPostLinkLeavesNothing(t *testing.T) {
	recs := channelRecords(t, "test-recipes", "noarch")
	parent := t.TempDir()
	prefix := filepath.Join(parent, "env")
	err := Create(context.Background(), pick(t, recs, "failing_post_link-1.0-0.conda", "post_link-b-1.0-0.conda"), createOpts(t, prefix))
	var se *ScriptError
	if !errors.As(err, &se) || se.Package != "failing_post_link-1.0-0" {
		t.Fatalf("got %v, want failing_post_link's script error", err)
	}
	if left, _ := os.ReadDir(parent); len(left) != 0 {
		t.Errorf("failed create left %v", left)
	}
}

func TestCreateBadDigestLeavesNothing(t *testing.T) {
	recs := channelRecords(t, "test-recipes", "noarch")
	r := *recs["post_link-b-1.0-0.conda"]
	r.SHA256 = strings.Repeat("0", 64)
	parent := t.TempDir()
	opts := createOpts(t, filepath.Join(parent, "env"))
	err := Create(context.Background(), []*repodata.Record{&r}, opts)
	var de *pkg.DigestError
	if !errors.As(err, &de) {
		t.Fatalf("got %v, want a digest error", err)
	}
	left, _ := os.ReadDir(parent)
	cached, _ := os.ReadDir(opts.Cache.Dir)
	if len(left) != 0 || len(cached) != 0 {
		t.Errorf("left %v in the parent and %v in the cache", left, cached)
	}
}

func TestCreateClobberWarns(t *testing.T) {
	recs := channelRecords(t, "test-recipes", "noarch")
	prefix := filepath.Join(t.TempDir(), "env")
	opts := createOpts(t, prefix)
	var warnings []string
	opts.Warn = func(s string) { warnings = append(warnings, s) }
	if err := Create(context.Background(), pick(t, recs, "clobber-b-1.0-0.conda", "clobber-a-1.0-0.conda"), opts); err != nil {
		t.Fatal(err)
	}
	// No dependency between them: name order, so clobber-b wins.
	if b, _ := os.ReadFile(filepath.Join(prefix, "bin/clobber-test-file")); string(b) != "clobber-b\n" {
		t.Errorf("bin/clobber-test-file = %q, want clobber-b's", b)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "clobber-b-1.0-0") || !strings.Contains(warnings[0], "clobber-a-1.0-0") {
		t.Errorf("warnings %q", warnings)
	}
}

type fileState struct {
	mode    fs.FileMode
	mtime   time.Time
	content string
}

func tree(t *testing.T, dir string) map[string]fileState {
	out := map[string]fileState{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(dir, p)
		st, _ := os.Lstat(p)
		fsx := fileState{mode: st.Mode(), mtime: st.ModTime()}
		switch {
		case st.Mode()&fs.ModeSymlink != 0:
			fsx.content, _ = os.Readlink(p)
		case st.Mode().IsRegular():
			b, _ := os.ReadFile(p)
			fsx.content = string(b)
		}
		out[rel] = fsx
		return nil
	})
	return out
}

// TestCreateReproducible creates the same packages twice at the same path
// (moving the first result aside) and compares every file's bytes, mode
// and mtime.
func TestCreateReproducible(t *testing.T) {
	zlib := channelRecords(t, "conda_format_repo", "linux-64")
	stub := channelRecords(t, "libgcc-stub", "linux-64")
	recipes := channelRecords(t, "test-recipes", "noarch")
	recs := append(pick(t, zlib, "zlib-1.2.11-h7b6447c_3.conda"), pick(t, stub, "libgcc-ng-8.2.0-stub_0.tar.bz2")...)
	recs = append(recs, pick(t, recipes, "post_link-e-1.0-0.conda", "post_link-d-1.0-0.conda", "python-3.99.99-0.conda", "sample_noarch_python-1.0-py_0.conda")...)
	parent := t.TempDir()
	prefix := filepath.Join(parent, "env")
	opts := createOpts(t, prefix)
	opts.Epoch = time.Unix(1234567890, 0)
	var progress bytes.Buffer
	opts.Progress = &progress
	if err := Create(context.Background(), recs, opts); err != nil {
		t.Fatal(err)
	}
	first := tree(t, prefix)
	if err := os.Rename(prefix, filepath.Join(parent, "first")); err != nil {
		t.Fatal(err)
	}
	if err := Create(context.Background(), recs, opts); err != nil {
		t.Fatal(err)
	}
	second := tree(t, prefix)
	if len(first) != len(second) || len(first) < 15 {
		t.Errorf("%d entries, then %d", len(first), len(second))
	}
	for p, a := range first {
		b, ok := second[p]
		if !ok || a != b {
			t.Errorf("%s: %+v, then %+v", p, a, b)
		}
		if a.mtime.Unix() != 1234567890 {
			t.Errorf("%s: mtime %v", p, a.mtime)
		}
	}
	for _, want := range []string{"lib/python3.99t/site-packages/sample.py", "lib/libz.so", "conda-meta/history", "conda-meta/zlib-1.2.11-h7b6447c_3.json", "bin/file"} {
		if _, ok := first[want]; !ok {
			t.Errorf("%s missing", want)
		}
	}
	if !strings.Contains(progress.String(), "link zlib-1.2.11-h7b6447c_3") {
		t.Errorf("progress:\n%s", progress.String())
	}
}
