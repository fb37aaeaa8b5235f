package index

import (
	"context"
	"crypto/sha256"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/envkit/envkit/internal/pypi/pypitest"
)

var dists = []pypitest.Dist{
	{Name: "Alpha.Pkg", Version: "1.0"},
	{Name: "alpha-pkg", Version: "1.1", RequiresPython: ">=3.8"},
	{Name: "beta", Version: "2.0"},
}

func TestJSONAndHTMLIndexesAgree(t *testing.T) {
	ctx := context.Background()
	for _, json := range []bool{true, false} {
		ix := pypitest.Serve(dists, json)
		defer ix.Server.Close()
		c := New(Options{IndexURL: ix.URL})
		files, err := c.Files(ctx, "ALPHA_pkg")
		if err != nil {
			t.Fatal(err)
		}
		if len(files) != 2 {
			t.Fatalf("json=%v: %d files, want 2: %+v", json, len(files), files)
		}
		f := files[1]
		if f.Filename != "alpha_pkg-1.1-py3-none-any.whl" || f.RequiresPython != ">=3.8" || f.SHA256 != ix.SHA256(f.Filename) ||
			f.URL != ix.Server.URL+"/files/"+f.Filename {
			t.Errorf("json=%v: %+v", json, f)
		}
		if _, err := c.Fetch(ctx, f.URL, f.SHA256); err != nil {
			t.Error(err)
		}
		ix.Corrupt[f.Filename] = true
		if _, err := c.Fetch(ctx, f.URL, f.SHA256); err == nil || !strings.Contains(err.Error(), "sha256") {
			t.Errorf("corrupt file: %v", err)
		}
		if files, err := c.Files(ctx, "missing"); err != nil || len(files) != 0 {
			t.Errorf("missing project: %v %v", files, err)
		}
	}
}

func TestExtraIndexAndFindLinks(t *testing.T) {
	a := pypitest.Serve(dists[:1], true)
	defer a.Server.Close()
	b := pypitest.Serve(dists[1:], false)
	defer b.Server.Close()
	dir := t.TempDir()
	local := pypitest.Dist{Name: "alpha-pkg", Version: "0.9"}
	if err := os.WriteFile(filepath.Join(dir, local.Filename()), local.Build(), 0o644); err != nil {
		t.Fatal(err)
	}
	c := New(Options{IndexURL: a.URL, ExtraIndexURLs: []string{b.URL}, FindLinks: []string{dir}})
	files, err := c.Files(context.Background(), "alpha-pkg")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, f.Filename)
	}
	if got := strings.Join(names, " "); got != "alpha_pkg-1.0-py3-none-any.whl alpha_pkg-1.1-py3-none-any.whl alpha_pkg-0.9-py3-none-any.whl" {
		t.Errorf("files: %s", got)
	}
}

func TestParseHTML(t *testing.T) {
	base, _ := url.Parse("https://example.com/simple/pkg/")
	page := `<html><head><base href="https://files.example.com/x/"></head><body>
<a href="pkg-1.0-py3-none-any.whl#sha256=ABCD" data-requires-python="&gt;=3.7" data-yanked="">pkg-1.0-py3-none-any.whl</a>
<a href="../pkg-1.1.tar.gz" data-dist-info-metadata="sha256=ef01">pkg-1.1.tar.gz</a>
</body></html>`
	files, err := ParseHTML(base, []byte(page))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || files[0].URL != "https://files.example.com/x/pkg-1.0-py3-none-any.whl" || files[0].SHA256 != "abcd" ||
		files[0].RequiresPython != ">=3.7" || !files[0].Yanked || files[1].MetadataSHA256 != "ef01" ||
		files[1].URL != "https://files.example.com/pkg-1.1.tar.gz" || files[1].MetadataURL == "" {
		t.Errorf("%+v", files)
	}
}

func TestParseJSONRejectsOtherMajorVersions(t *testing.T) {
	base, _ := url.Parse("https://example.com/simple/pkg/")
	if _, err := ParseJSON(base, []byte(`{"meta":{"api-version":"2.0"},"files":[]}`)); err == nil {
		t.Error("want an error for api-version 2.0")
	}
	files, err := ParseJSON(base, []byte(`{"meta":{"api-version":"1.0"},"files":[{"filename":"p-1-py3-none-any.whl","url":"p-1-py3-none-any.whl","hashes":{},"yanked":"bad build","core-metadata":{"sha256":"aa"}}]}`))
	if err != nil || !files[0].Yanked || files[0].MetadataSHA256 != "aa" {
		t.Errorf("%+v %v", files, err)
	}
}

// TestMetadataByRanges: a big wheel's METADATA is read with a few range
// requests when the server allows them, and by one whole download
// otherwise; both give the same metadata.
func TestMetadataByRanges(t *testing.T) {
	// Incompressible: a sha256 chain.
	var big []byte
	for sum := sha256.Sum256(nil); len(big) < 3<<20; sum = sha256.Sum256(sum[:]) {
		big = append(big, sum[:]...)
	}
	d := pypitest.Dist{Name: "big", Version: "1.0", Requires: []string{"dep>=1"}, Files: map[string]string{"big/blob.bin": string(big)}}
	for _, noRanges := range []bool{false, true} {
		ix := pypitest.Serve([]pypitest.Dist{d}, true)
		ix.NoRanges = noRanges
		c := New(Options{IndexURL: ix.URL})
		files, err := c.Files(context.Background(), "big")
		if err != nil {
			t.Fatal(err)
		}
		before := ix.BytesServed.Load()
		m, err := c.Metadata(context.Background(), files[0])
		if err != nil {
			t.Fatal(err)
		}
		served := ix.BytesServed.Load() - before
		if m.Name != "big" || len(m.RequiresDist) != 1 {
			t.Errorf("%+v", m)
		}
		if whole := int64(len(ix.Files[d.Filename()])); !noRanges && served > 200<<10 || noRanges && served != whole {
			t.Errorf("noRanges=%v: %d bytes served for a %d-byte wheel", noRanges, served, whole)
		}
		ix.Server.Close()
	}
}
