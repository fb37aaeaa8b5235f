package install

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/envkit/envkit/internal/conformance"
)

// entry is one member of a crafted package: a file (content, or size
// bytes of fill repeated), a symlink (link set) or a hard link (hard set).
// Members under info/ go to the info part; index.json is made from the
// name unless given.
type entry struct {
	path, content, link, hard string
	fill                      string
	size                      int64
}

// header is the entry's tar header: a symlink, a hard link or a regular
// file of its content and fill.
func (e entry) header() *tar.Header {
	switch {
	case e.link != "":
		return &tar.Header{Name: e.path, Typeflag: tar.TypeSymlink, Linkname: e.link, Mode: 0o777}
	case e.hard != "":
		return &tar.Header{Name: e.path, Typeflag: tar.TypeLink, Linkname: e.hard, Mode: 0o644}
	}
	return &tar.Header{Name: e.path, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(e.content)) + e.size}
}

func symlink(p, target string) entry { return entry{path: p, link: target} }
func file(p, content string) entry   { return entry{path: p, content: content} }

// craftedPackage writes NAME-1-0.conda holding entries in the given order
// (the payload is the file list unless an info/paths.json is given), and
// returns its path and a record for it with a file:// URL and its sha256.
// Large generated members are streamed, never held whole.
func craftedPackage(t *testing.T, dir, name string, entries ...entry) (string, *repodata.Record) {
	t.Helper()
	tarOf := func(entries []entry) []byte {
		var b bytes.Buffer
		enc, _ := zstd.NewWriter(&b)
		tw := tar.NewWriter(enc)
		for _, e := range entries {
			if err := tw.WriteHeader(e.header()); err != nil {
				t.Fatal(err)
			}
			tw.Write([]byte(e.content))
			if e.fill != "" {
				block := bytes.Repeat([]byte(e.fill), (1<<20)/len(e.fill))
				for left := e.size; left > 0; left -= int64(len(block)) {
					tw.Write(block[:min(int64(len(block)), left)])
				}
			}
		}
		tw.Close()
		enc.Close()
		return b.Bytes()
	}
	quoted, _ := json.Marshal(name)
	index := `{"name":` + string(quoted) + `,"version":"1","build":"0","build_number":0,"depends":[],"subdir":"noarch"}`
	dist := strings.NewReplacer("/", "_", "\x00", "_").Replace(name) + "-1-0"
	info := []entry{file("info/index.json", index)}
	var payload []entry
	for _, e := range entries {
		if strings.HasPrefix(e.path, "info/") {
			info = append(info, e)
		} else {
			payload = append(payload, e)
		}
	}
	var z bytes.Buffer
	zw := zip.NewWriter(&z)
	for _, m := range []struct {
		name string
		tar  []byte
	}{{"info-" + dist + ".tar.zst", tarOf(info)}, {"pkg-" + dist + ".tar.zst", tarOf(payload)}} {
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: m.name, Method: zip.Store})
		w.Write(m.tar)
	}
	zw.Close()
	archive := filepath.Join(dir, dist+".conda")
	if err := os.WriteFile(archive, z.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return archive, &repodata.Record{
		Name: name, Version: "1", Build: "0", Subdir: "noarch", Filename: dist + ".conda",
		URL: "file://" + archive, SHA256: sha256Hex(z.Bytes()),
	}
}

// outside is a directory beside the test's prefixes that no package may
// reach, holding a secret the attacks try to read; the returned check
// fails the test if anything was written there.
func outside(t *testing.T) (dir string, check func()) {
	dir = t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte("host secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, func() {
		t.Helper()
		if ls, _ := os.ReadDir(dir); len(ls) != 1 {
			t.Errorf("written outside the prefix: %v", ls)
		}
	}
}

// createRefused runs Create and wants it to fail with err matching want,
// leaving nothing in the prefix's parent and nothing in messages.
func createRefused(t *testing.T, want string, recs ...*repodata.Record) (messages string) {
	t.Helper()
	parent := t.TempDir()
	opts := createOpts(t, filepath.Join(parent, "env"))
	var msgs bytes.Buffer
	opts.Messages = &msgs
	err := Create(context.Background(), recs, opts)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want an error saying %q", err, want)
	}
	if left, _ := os.ReadDir(parent); len(left) != 0 {
		t.Errorf("the failed create left %v", left)
	}
	return msgs.String()
}

// upChain makes D/b/up (D 19 directories deep) climb 20 levels while,
// checked as text from where it seems to be, it stays at the root:
// D/b -> ../…(19 times) is the root itself, so D/b/up -> ../…(20 times)
// is the host's root. A later link through it reaches any host path.
func upChain() (entries []entry, up string) {
	deep := strings.TrimSuffix(strings.Repeat("d/", 19), "/")
	return []entry{
		file(deep+"/f", ""),
		symlink(deep+"/b", strings.TrimSuffix(strings.Repeat("../", 19), "/")),
		symlink(deep+"/b/up", strings.TrimSuffix(strings.Repeat("../", 20), "/")),
	}, deep + "/b/up"
}

// TestCreateRefusesLinkChainOut: the chain passes the lexical check of
// each link alone; without the resolution against the tree, Finalize
// writes conda-meta/history on the host and reads a host file into the
// messages.
func TestCreateRefusesLinkChainOut(t *testing.T) {
	out, check := outside(t)
	defer check()
	entries, up := upChain()
	entries = append(entries,
		symlink("conda-meta/history", "../"+up+out+"/history"),
		symlink(".messages.txt", up+out+"/secret"))
	_, rec := craftedPackage(t, t.TempDir(), "chain", entries...)
	msgs := createRefused(t, up+" -> ../../", rec)
	if strings.Contains(msgs, "secret") {
		t.Errorf("a host file reached the messages: %q", msgs)
	}
}

// TestCreateRefusesLinkALaterPackageTurnsOut: y -> x/.. stays inside
// while x does not exist; a later package makes x -> ., and y then
// names the prefix's parent. Each link is fine when written; only the
// finished tree shows the escape.
func TestCreateRefusesLinkALaterPackageTurnsOut(t *testing.T) {
	dir := t.TempDir()
	_, first := craftedPackage(t, dir, "a-first", symlink("y", "x/.."), symlink("conda-meta/history", "../y/pwned"))
	_, later := craftedPackage(t, dir, "b-later", symlink("x", "."))
	createRefused(t, "leaves the prefix", first, later)
}

// TestLinkRechecksItsOwnLinks: the same two links in one package, in the
// order that makes each fine when written.
func TestLinkRechecksItsOwnLinks(t *testing.T) {
	archive, _ := craftedPackage(t, t.TempDir(), "order", symlink("y", "x/.."), symlink("x", "."))
	dest := filepath.Join(t.TempDir(), "env")
	_, err := Link(archive, dest, Options{Prefix: "/opt/env"})
	var le *LinkError
	if !errors.As(err, &le) || le.Path != "y" || !strings.Contains(err.Error(), "order-1-0.conda") {
		t.Fatalf("got %v, want y refused, naming the package", err)
	}
}

// TestLinkRefusesEntryThroughLeavingLink: a file whose parent path goes
// through a link that leaves is refused with the link named.
func TestLinkRefusesEntryThroughLeavingLink(t *testing.T) {
	archive, _ := craftedPackage(t, t.TempDir(), "through", symlink("x", "."), symlink("y", "x/.."), file("y/pwned", "x"))
	_, err := Link(archive, filepath.Join(t.TempDir(), "env"), Options{Prefix: "/opt/env"})
	if err == nil || !strings.Contains(err.Error(), "y -> x/.. leaves the prefix") {
		t.Fatalf("got %v, want the leaving link named", err)
	}
}

// TestLinkKeepsLinksInside: what real packages do stays allowed: file
// links in the same directory, a directory link, links through that
// link, and links up to a sibling tree.
func TestLinkKeepsLinksInside(t *testing.T) {
	archive, _ := craftedPackage(t, t.TempDir(), "benign",
		symlink("lib/libfoo.so", "libfoo.so.1"), file("lib/libfoo.so.1", "elf"),
		symlink("lib64", "lib"), symlink("lib64/libbar.so", "../lib/libfoo.so.1"),
		symlink("bin/python", "python3.11"), file("bin/python3.11", "py"),
		symlink("share/man/man1/tool.1", "../../../lib/libfoo.so"),
		symlink("dangling", "not/there/yet"))
	dest := t.TempDir()
	if _, err := Link(archive, dest, Options{Prefix: "/opt/env"}); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dest, "lib/libbar.so")); err != nil || string(b) != "elf" {
		t.Errorf("lib/libbar.so through lib64: %q %v", b, err)
	}
}

// TestFinalizeRefusesRecordNameWithPath: a package that ships its own
// conda-meta record named ./../…/x would have Finalize source
// bin/../…/x-post-link.sh, a script outside the prefix.
func TestFinalizeRefusesRecordNameWithPath(t *testing.T) {
	out, check := outside(t)
	defer check()
	marker := filepath.Join(out, "ran")
	os.WriteFile(filepath.Join(out, "x-post-link.sh"), []byte("touch "+marker+"\n"), 0o755)
	defer os.Remove(filepath.Join(out, "x-post-link.sh"))
	name := "./" + strings.Repeat("../", 30) + strings.TrimPrefix(out, "/") + "/x"
	_, rec := craftedPackage(t, t.TempDir(), "record",
		file("conda-meta/evil-1-0.json", `{"name":"`+name+`","version":"1","build":"0"}`))
	createRefused(t, `conda-meta/evil-1-0.json: name "./../`, rec)
	if _, err := os.Stat(marker); err == nil {
		t.Error("a script outside the prefix ran")
	}
}

// TestLinkRefusesPackageNameWithPath: index.json's name, version and
// build make the record's file name (and Finalize's script names).
func TestLinkRefusesPackageNameWithPath(t *testing.T) {
	for _, name := range []string{"../evil", "a/b", "a\x00b", "..", "x/../../y"} {
		archive, _ := craftedPackage(t, t.TempDir(), name, file("f", "x"))
		dest := t.TempDir()
		_, err := Link(archive, dest, Options{Prefix: "/opt/env"})
		if err == nil || !strings.Contains(err.Error(), "info/index.json: name") {
			t.Errorf("%q: got %v, want the name refused", name, err)
		}
		if ls, _ := os.ReadDir(dest); len(ls) != 0 {
			t.Errorf("%q: wrote %v", name, ls)
		}
	}
}

// TestFinalizeNoScripts: with NoScripts no link script runs (rattler's
// link-scripts touches i-was-post-linked; failing_post_link's fails) and
// the rest is finalized as usual. Create passes the option on.
func TestFinalizeNoScripts(t *testing.T) {
	prefix := t.TempDir()
	linkAll(t, prefix, prefix, nil, conformance.Dir(t, "packages/rattler/link-scripts-0.1.0-h4616a5c_0.conda"), recipe(t, "failing_post_link-1.0-0"))
	if err := Finalize(prefix, FinalizeOptions{NoScripts: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(prefix, "i-was-post-linked")); err == nil {
		t.Error("a post-link script ran")
	}
	if _, err := os.Stat(filepath.Join(prefix, "conda-meta", "history")); err != nil {
		t.Error(err)
	}
	recs := channelRecords(t, "test-recipes", "noarch")
	opts := createOpts(t, filepath.Join(t.TempDir(), "env"))
	opts.NoScripts = true
	if err := Create(context.Background(), pick(t, recs, "failing_post_link-1.0-0.conda"), opts); err != nil {
		t.Errorf("Create with NoScripts: %v", err)
	}
}

// TestLinkStreamsPlaceholderFiles: a 32 MiB file that is nothing but its
// text placeholder is replaced without being held in memory (it was read
// whole, and its replacement built whole: a 100 MB one ran out of
// memory), and a hard link to it, listed without placeholder, still gets
// the archive's bytes (read again from the archive: the file is too large
// to keep).
func TestLinkStreamsPlaceholderFiles(t *testing.T) {
	const size = 32 << 20
	paths := `{"paths_version":1,"paths":[` +
		`{"_path":"share/big","path_type":"hardlink","file_mode":"text","prefix_placeholder":"/x"},` +
		`{"_path":"share/same","path_type":"hardlink"}]}`
	archive, _ := craftedPackage(t, t.TempDir(), "big", file("info/paths.json", paths),
		entry{path: "share/big", fill: "/x", size: size}, entry{path: "share/same", hard: "share/big"})
	dest := t.TempDir()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	rec, err := Link(archive, dest, Options{Prefix: "/e"})
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > size {
		t.Errorf("linking allocated %d MiB for a %d MiB file: it is held in memory", alloc>>20, size>>20)
	}
	for p, fill := range map[string]string{"share/big": "/e", "share/same": "/x"} {
		f, err := os.Open(filepath.Join(dest, p))
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		n, _ := io.Copy(h, f)
		f.Close()
		want := sha256.Sum256(bytes.Repeat([]byte(fill), size/2))
		if n != size || !bytes.Equal(h.Sum(nil), want[:]) {
			t.Errorf("%s: %d bytes, not %d bytes of %q", p, n, size, fill)
		}
	}
	if got := rec.PathsData.Paths[0].SHA256InPrefix; got != sha256Hex(bytes.Repeat([]byte("/e"), size/2)) {
		t.Errorf("sha256_in_prefix %s", got)
	}
	noTemporaries(t, dest)
}

// noTemporaries fails if linking left a temporary file under dir.
func noTemporaries(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if d != nil && strings.HasPrefix(d.Name(), ".envkit-") {
			t.Errorf("left %s", p)
		}
		return nil
	})
}

// TestLinkReplaceFailureLeavesNothing: a binary placeholder the prefix
// does not fit fails the file before it exists, in the middle of a large
// stream, and nothing of it stays.
func TestLinkReplaceFailureLeavesNothing(t *testing.T) {
	paths := `{"paths_version":1,"paths":[{"_path":"lib/libx.so","path_type":"hardlink","file_mode":"binary","prefix_placeholder":"/short"}]}`
	archive, _ := craftedPackage(t, t.TempDir(), "bin", file("info/paths.json", paths),
		entry{path: "lib/libx.so", content: strings.Repeat("\x7fELF", 1<<18) + "/short/lib\x00", fill: "\x00", size: 1 << 20})
	dest := t.TempDir()
	var pe *PaddingError
	if _, err := Link(archive, dest, Options{Prefix: "/a/longer/prefix"}); !errors.As(err, &pe) || !strings.Contains(err.Error(), "lib/libx.so") {
		t.Fatalf("got %v, want a padding error naming the file", err)
	}
	if _, err := os.Lstat(filepath.Join(dest, "lib/libx.so")); err == nil {
		t.Error("the file was written")
	}
	noTemporaries(t, dest)
}

// TestLinkHardLinkToRewrittenFile: hard links to a file that prefix
// replacement rewrote get the archive's bytes, replaced or not as their
// own paths entry says.
func TestLinkHardLinkToRewrittenFile(t *testing.T) {
	paths := `{"paths_version":1,"paths":[` +
		`{"_path":"bin/tool","path_type":"hardlink","file_mode":"text","prefix_placeholder":"/ph"},` +
		`{"_path":"bin/plain","path_type":"hardlink"},` +
		`{"_path":"bin/again","path_type":"hardlink","file_mode":"text","prefix_placeholder":"/ph"}]}`
	archive, _ := craftedPackage(t, t.TempDir(), "hard", file("info/paths.json", paths),
		file("bin/tool", "root=/ph/lib\n"), entry{path: "bin/plain", hard: "bin/tool"}, entry{path: "bin/again", hard: "bin/tool"})
	dest := t.TempDir()
	if _, err := Link(archive, dest, Options{Prefix: "/opt/env"}); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]string{"bin/tool": "root=/opt/env/lib\n", "bin/plain": "root=/ph/lib\n", "bin/again": "root=/opt/env/lib\n"} {
		if b, _ := os.ReadFile(filepath.Join(dest, p)); string(b) != want {
			t.Errorf("%s: %q, want %q", p, b, want)
		}
	}
	noTemporaries(t, dest)
}

// TestLinkReplacementBounded: what a package writes, prefix placeholders
// replaced, is bounded like what its archive may decompress to: a
// one-byte placeholder over a file of them would multiply it by the
// prefix's length (a 12 kB package wrote 1.1 GB). The bound is
// pkg.MaxExtracted (at least 256 MiB); a small allowance stands for it.
func TestLinkReplacementBounded(t *testing.T) {
	dir := t.TempDir()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	l := &linker{root: root, allowance: &allowance{size: 100, left: 10 << 20}}
	_, err = l.writeReplaced("share/bomb", 0o644, func(w io.Writer) error {
		return ReplaceText(w, strings.NewReader(strings.Repeat("/", 1<<20)), "/", "/opt/envs/eleven")
	})
	if err == nil || !strings.Contains(err.Error(), "pkg.MaxExtracted") {
		t.Fatalf("got %v, want the package's bound", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "share/bomb")); err == nil {
		t.Error("the file was written")
	}
	noTemporaries(t, dir)
}
