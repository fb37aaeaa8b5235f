package install

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dsnet/compress/bzip2"
)

// bz2Package writes onepass-1-0.tar.bz2 in a new directory with entries
// in exactly the given order, info/ members included.
func bz2Package(t *testing.T, entries []entry) string {
	t.Helper()
	var b bytes.Buffer
	bw, err := bzip2.NewWriter(&b, nil)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(bw)
	for _, e := range entries {
		h := e.header()
		if h.Typeflag == tar.TypeReg && strings.HasPrefix(e.path, "python-scripts/") {
			h.Mode = 0o755
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(e.content))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := bw.Close(); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(t.TempDir(), "onepass-1-0.tar.bz2")
	if err := os.WriteFile(archive, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return archive
}

// onePassPackage is a noarch: python package whose index.json does not
// say so (its link.json does): where its files go depends on an info
// file, as do its placeholder, its link and its entry point.
func onePassPackage() (info, payload []entry) {
	paths := `{"paths_version":1,"paths":[` +
		`{"_path":"site-packages/mod.py","path_type":"hardlink","prefix_placeholder":"/opt/placeholder_0123456789"},` +
		`{"_path":"site-packages/pkg/__init__.py","path_type":"hardlink"},` +
		`{"_path":"site-packages/pkg/copy.py","path_type":"hardlink"},` +
		`{"_path":"site-packages/alias.py","path_type":"softlink"},` +
		`{"_path":"python-scripts/tool","path_type":"hardlink"},` +
		`{"_path":"share/onepass/data.txt","path_type":"hardlink"},` +
		`{"_path":"share/onepass/empty","path_type":"directory"}]}`
	info = []entry{
		file("info/index.json", `{"name":"onepass","version":"1","build":"0","build_number":0,"depends":[],"subdir":"noarch"}`),
		file("info/paths.json", paths),
		file("info/link.json", `{"noarch":{"type":"python","entry_points":["onepass = mod:main"]},"package_metadata_version":1}`),
		file("info/test/run_test.sh", "python -c 'import mod'\n"),
		file("info/recipe/meta.yaml", "package: {name: onepass}\n"),
		// Read by linking, but paths.json says it all.
		file("info/has_prefix", "/opt/placeholder_0123456789 text site-packages/mod.py\n"),
	}
	payload = []entry{
		file("site-packages/mod.py", "PREFIX = '/opt/placeholder_0123456789'\ndef main(): pass\n"),
		file("site-packages/pkg/__init__.py", "x = 1\n"),
		{path: "site-packages/pkg/copy.py", hard: "site-packages/pkg/__init__.py"},
		symlink("site-packages/alias.py", "mod.py"),
		file("python-scripts/tool", "#!/bin/sh\necho tool\n"),
		file("share/onepass/data.txt", "data\n"),
		file("not-listed.txt", "not in paths.json\n"),
	}
	return info, payload
}

// linkedState is what linking made in dest: the tree with mtimes left
// out, and the record without the archive's own digests and size.
func linkedState(t *testing.T, archive, dest string) (map[string]fileState, []byte) {
	t.Helper()
	rec, err := Link(archive, dest, Options{Prefix: "/opt/env", Python: &Python{Version: "3.12"}})
	if err != nil {
		t.Fatal(err)
	}
	files := tree(t, dest)
	for p, f := range files {
		f.mtime = time.Time{}
		files[p] = f
	}
	delete(files, "conda-meta/onepass-1-0.json") // the record, below
	rec.MD5, rec.SHA256, rec.Size = "", "", 0
	js, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	return files, js
}

// TestLinkAnyInfoOrder: a .tar.bz2 links the same whether its info files
// come first (one pass), last, after some of the files they describe
// (linked, taken back and linked again) or only info/test and
// info/recipe after the payload (Anaconda's zlib: still one pass).
func TestLinkAnyInfoOrder(t *testing.T) {
	info, payload := onePassPackage()
	cat := func(parts ...[]entry) []entry {
		var out []entry
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	orders := map[string][]entry{
		"info last":              cat(payload, info),
		"link.json after files":  cat(info[:2], payload[:4], info[2:3], payload[4:], info[3:]),
		"paths.json after files": cat(info[:1], payload[:2], info[1:3], payload[2:], info[3:]),
		"tests after files":      cat(info[:3], payload[:3], info[3:4], payload[3:], info[4:]),
	}
	wantFiles, wantRecord := linkedState(t, bz2Package(t, cat(info, payload)), t.TempDir())
	for _, p := range []string{"lib/python3.12/site-packages/mod.py", "lib/python3.12/site-packages/pkg/copy.py", "bin/tool", "bin/onepass", "share/onepass/empty"} {
		if _, ok := wantFiles[p]; !ok {
			t.Errorf("info first: no %s in %v", p, wantFiles)
		}
	}
	if got := wantFiles["lib/python3.12/site-packages/mod.py"].content; !strings.Contains(got, "'/opt/env'") {
		t.Errorf("info first: placeholder not replaced: %q", got)
	}
	for name, entries := range orders {
		dest := t.TempDir()
		files, record := linkedState(t, bz2Package(t, entries), dest)
		for p := range mergedKeys(files, wantFiles) {
			if files[p] != wantFiles[p] {
				t.Errorf("%s: %s is %+v, linked with info first %+v", name, p, files[p], wantFiles[p])
			}
		}
		if !bytes.Equal(record, wantRecord) {
			t.Errorf("%s: record\n%s\nwant (info first)\n%s", name, record, wantRecord)
		}
		noTemporaries(t, dest)
	}
}

// TestSameInfo: an info file after the payload makes linking read the
// payload again only when it changes what linking does.
func TestSameInfo(t *testing.T) {
	info, _ := onePassPackage()
	meta := map[string][]byte{}
	for _, e := range info {
		meta[e.path] = []byte(e.content)
	}
	without := func(drop string) map[string][]byte {
		m := maps.Clone(meta)
		delete(m, drop)
		return m
	}
	for drop, same := range map[string]bool{
		"info/has_prefix":       true,  // paths.json has the placeholders
		"info/test/run_test.sh": true,  // not read
		"info/link.json":        false, // noarch: python moves files
		"info/paths.json":       false,
		"info/index.json":       false, // no package without it
	} {
		if got := sameInfo("onepass", without(drop), meta); got != same {
			t.Errorf("%s late: same %v, want %v", drop, got, same)
		}
	}
}

func mergedKeys[V any](a, b map[string]V) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// TestLinkLateInfoKeepsEarlierFiles: when info found late moves a
// package's files, the first pass's writes are taken back; one over a
// file that was already there (an earlier package's) cannot be, and the
// link is refused rather than leave that file lost or wrong.
func TestLinkLateInfoKeepsEarlierFiles(t *testing.T) {
	info, payload := onePassPackage()
	late := append(append(append([]entry{}, info[:2]...), payload...), info[2:]...)
	archive := bz2Package(t, late)

	dest := t.TempDir()
	os.MkdirAll(filepath.Join(dest, "share/onepass"), 0o755)
	os.WriteFile(filepath.Join(dest, "share/onepass/data.txt"), []byte("earlier\n"), 0o644)
	// Written again at the same place in the second pass: no loss.
	if _, err := Link(archive, dest, Options{Prefix: "/opt/env", Python: &Python{Version: "3.12"}}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dest, "share/onepass/data.txt")); string(b) != "data\n" {
		t.Errorf("share/onepass/data.txt: %q", b)
	}
	if _, err := os.Lstat(filepath.Join(dest, "site-packages")); err == nil {
		t.Error("site-packages/ of the first pass left in the prefix")
	}

	dest = t.TempDir()
	os.MkdirAll(filepath.Join(dest, "site-packages"), 0o755)
	os.WriteFile(filepath.Join(dest, "site-packages/mod.py"), []byte("earlier\n"), 0o644)
	_, err := Link(archive, dest, Options{Prefix: "/opt/env", Python: &Python{Version: "3.12"}})
	if err == nil || !strings.Contains(err.Error(), "wrote site-packages/mod.py over what was there before") {
		t.Fatalf("got %v, want a refusal naming site-packages/mod.py", err)
	}
}
