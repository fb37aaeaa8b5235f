package pkg

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/envkit/envkit/internal/conformance"
	"github.com/klauspost/compress/zstd"
)

// conformancePackages lists every package archive of the shared conformance
// data: the channels and rattler's single packages.
func conformancePackages(t testing.TB) []string {
	t.Helper()
	var files []string
	for _, pattern := range []string{"channels/*/*/*.conda", "channels/*/*/*.tar.bz2", "packages/rattler/*.conda", "packages/rattler/*.tar.bz2"} {
		m, err := filepath.Glob(conformance.Dir(t, pattern))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 80 {
		t.Fatalf("found only %d conformance packages", len(files))
	}
	sort.Strings(files)
	return files
}

// node is what the comparison with cph looks at: type, permission bits,
// content or link target. Modification times are not compared: envkit sets
// them to SOURCE_DATE_EPOCH on purpose.
type node struct {
	kind    string
	perm    fs.FileMode
	content string
}

func snapshot(t *testing.T, dir string) map[string]node {
	t.Helper()
	tree := map[string]node{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		st, err := os.Lstat(p)
		if err != nil {
			return err
		}
		switch {
		case st.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			tree[rel] = node{kind: "symlink", content: target}
		case st.IsDir():
			tree[rel] = node{kind: "dir"}
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			tree[rel] = node{kind: "file", perm: st.Mode().Perm(), content: string(b)}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

// cphExtract extracts file with Debian's conda-package-handling (cph
// 2.0.1). Where that cph cannot read a valid package, the reference is the
// closest thing cph can extract, tried in order:
//   - Anaconda's zlib .conda stores empty symlink targets, on which cph
//     fails ("seeking backwards is not allowed"): the same build's
//     .tar.bz2 beside it;
//   - a .conda zipped with a leading directory (rattler's ca-certificates):
//     the same members re-zipped at the top level;
//   - an info-only .conda: `cph x --info`.
func cphExtract(t *testing.T, file, dest string) {
	t.Helper()
	cph, err := exec.LookPath("cph")
	if err != nil {
		t.Fatalf("cph (Debian package conda-package-handling) is not installed; install it with `apt-get install -y conda-package-handling`: %v", err)
	}
	try := func(args ...string) error {
		os.RemoveAll(dest)
		out, err := exec.Command(cph, args...).CombinedOutput()
		if err != nil {
			return errors.New(string(out))
		}
		return nil
	}
	errX := try("x", file, "--dest", dest)
	if errX == nil || !strings.HasSuffix(file, ".conda") {
		if errX != nil {
			t.Fatalf("cph cannot extract %s: %v", file, errX)
		}
		return
	}
	if bz := strings.TrimSuffix(file, ".conda") + ".tar.bz2"; fileExists(bz) && try("x", bz, "--dest", dest) == nil {
		return
	}
	flat := filepath.Join(t.TempDir(), filepath.Base(file))
	rezip := exec.Command("/usr/bin/python3", "-c", `import sys, zipfile, os
src, dst = zipfile.ZipFile(sys.argv[1]), zipfile.ZipFile(sys.argv[2], "w", zipfile.ZIP_STORED)
for i in src.infolist():
    if not i.is_dir():
        dst.writestr(os.path.basename(i.filename), src.read(i))
dst.close()`, file, flat)
	if rezip.Run() == nil && try("x", flat, "--dest", dest) == nil {
		return
	}
	if try("x", "--info", file, "--dest", dest) == nil {
		return
	}
	t.Fatalf("cph cannot extract %s: %v", file, errX)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func TestExtractMatchesCph(t *testing.T) {
	for _, file := range conformancePackages(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			tmp := t.TempDir()
			want := filepath.Join(tmp, "cph")
			cphExtract(t, file, want)
			got := filepath.Join(tmp, "envkit")
			if err := Extract(file, got, time.Unix(0, 0)); err != nil {
				t.Fatal(err)
			}
			w, g := snapshot(t, want), snapshot(t, got)
			for p, wn := range w {
				gn, ok := g[p]
				switch {
				case !ok:
					t.Errorf("%s: extracted by cph, missing from envkit's extraction", p)
				case gn.kind != wn.kind || gn.content != wn.content:
					t.Errorf("%s: envkit %s %q, cph %s %q", p, gn.kind, trim(gn.content), wn.kind, trim(wn.content))
				case gn.perm != wn.perm:
					t.Errorf("%s: envkit mode %v, cph %v", p, gn.perm, wn.perm)
				}
			}
			for p := range g {
				if _, ok := w[p]; !ok {
					t.Errorf("%s: extracted by envkit, not by cph", p)
				}
			}
		})
	}
}

func trim(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

func TestExtractSetsMtime(t *testing.T) {
	file := conformance.Dir(t, "packages/rattler/symlink-test-1.0.0-0.conda")
	dir := filepath.Join(t.TempDir(), "x")
	epoch := time.Unix(1700000000, 0)
	if err := Extract(file, dir, epoch); err != nil {
		t.Fatal(err)
	}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		st, _ := os.Lstat(p)
		if !st.ModTime().Equal(epoch) {
			t.Errorf("%s: mtime %v, want %v", p, st.ModTime(), epoch)
		}
		return nil
	})
}

func TestWalkInfoFirstAndParts(t *testing.T) {
	// rattler's zip64 test package stores pkg-*.tar.zst before info-*.
	file := conformance.Dir(t, "packages/rattler/zip64-test-1.0.0-0.conda")
	var order []string
	if err := WalkFile(file, All, func(e *Entry, r io.Reader) error {
		order = append(order, fmt.Sprintf("%s:%d", e.Path, e.Part))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("info/index.json:%d,bin/hello.txt:%d", Info, Payload); strings.Join(order, ",") != want {
		t.Errorf("order %v, want %s: info first, each with its part", order, want)
	}
	var info []string
	WalkFile(file, Info, func(e *Entry, r io.Reader) error { info = append(info, e.Path); return nil })
	if strings.Join(info, ",") != "info/index.json" {
		t.Errorf("info part %v", info)
	}
}

func TestVerifyFile(t *testing.T) {
	file := conformance.Dir(t, "channels/conda_format_repo/linux-64/zlib-1.2.11-h7b6447c_3.tar.bz2")
	good := Digests{SHA256: "1f07873d6aa0cd18760a7b215d9956f7fa63c2f2761b03f293c659fe982923fa", MD5: "2e5b81671cc2b53177b94b258b1658b2"}
	if err := VerifyFile(file, good); err != nil {
		t.Fatal(err)
	}
	bad := good
	bad.MD5 = strings.Repeat("0", 32)
	err := VerifyFile(file, bad)
	var de *DigestError
	if !errors.As(err, &de) || de.Algorithm != "md5" || !strings.Contains(err.Error(), "zlib-1.2.11-h7b6447c_3.tar.bz2") {
		t.Errorf("got %v, want an md5 mismatch naming the package", err)
	}
}

// tarBytes builds a tar holding the given headers (file contents are the
// header names).
func tarBytes(t testing.TB, hs ...*tar.Header) []byte {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, h := range hs {
		body := []byte(h.Name)
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			tw.Write(body)
		}
	}
	tw.Close()
	return b.Bytes()
}

// condaBytes wraps a payload tar into a .conda (stored zip, zstd tars).
func condaBytes(t testing.TB, payload []byte) []byte {
	info := tarBytes(t, &tar.Header{Name: "info/index.json", Typeflag: tar.TypeReg, Mode: 0o644})
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for name, data := range map[string][]byte{"info-x-1-0.tar.zst": info, "pkg-x-1-0.tar.zst": payload} {
		enc, _ := zstd.NewWriter(nil)
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(enc.EncodeAll(data, nil))
	}
	zw.Close()
	return b.Bytes()
}

func TestUnsafePathsRefused(t *testing.T) {
	cases := map[string]*tar.Header{
		"absolute":           {Name: "/etc/passwd", Typeflag: tar.TypeReg},
		"dotdot":             {Name: "lib/../../x", Typeflag: tar.TypeReg},
		"symlink absolute":   {Name: "lib/l", Typeflag: tar.TypeSymlink, Linkname: "/etc"},
		"symlink outside":    {Name: "lib/l", Typeflag: tar.TypeSymlink, Linkname: "../../etc"},
		"hardlink outside":   {Name: "lib/h", Typeflag: tar.TypeLink, Linkname: "../etc/passwd"},
		"hardlink absolute":  {Name: "lib/h", Typeflag: tar.TypeLink, Linkname: "/etc/passwd"},
		"symlink dotdot dir": {Name: "l", Typeflag: tar.TypeSymlink, Linkname: ".."},
	}
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			h.Mode = 0o644
			data := condaBytes(t, tarBytes(t, &tar.Header{Name: "lib/ok", Typeflag: tar.TypeReg, Mode: 0o644}, h))
			file := filepath.Join(t.TempDir(), "evil-1-0.conda")
			os.WriteFile(file, data, 0o644)
			dest := filepath.Join(t.TempDir(), "out")
			err := Extract(file, dest, time.Unix(0, 0))
			var ue *UnsafePathError
			if !errors.As(err, &ue) || ue.Package != "evil-1-0.conda" || !strings.Contains(err.Error(), h.Name) {
				t.Fatalf("got %v, want an unsafe path error naming the package and %q", err, h.Name)
			}
			if _, err := os.Stat(dest); !os.IsNotExist(err) {
				t.Errorf("refused package left %s behind", dest)
			}
			left, _ := os.ReadDir(filepath.Dir(dest))
			if len(left) != 0 {
				t.Errorf("refused package left %v behind", left)
			}
		})
	}
}

func TestSymlinkInsideAccepted(t *testing.T) {
	data := condaBytes(t, tarBytes(t,
		&tar.Header{Name: "lib/real", Typeflag: tar.TypeReg, Mode: 0o644},
		&tar.Header{Name: "lib/sub/l", Typeflag: tar.TypeSymlink, Linkname: "../real"},
	))
	file := filepath.Join(t.TempDir(), "ok-1-0.conda")
	os.WriteFile(file, data, 0o644)
	if err := Extract(file, filepath.Join(t.TempDir(), "out"), time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
}

func FuzzWalk(f *testing.F) {
	for _, name := range []string{
		"packages/rattler/zip64-test-1.0.0-0.conda", "packages/rattler/symlink-test-1.0.0-0.conda",
		"packages/rattler/clobber-1-0.1.0-h4616a5c_0.tar.bz2", "packages/rattler/dotslash-test-1.0.0-0.conda",
	} {
		b, err := os.ReadFile(conformance.Dir(f, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		Walk(bytes.NewReader(data), int64(len(data)), "fuzz.conda", All, func(e *Entry, r io.Reader) error {
			if _, err := CleanPath(e.Path); err != nil || e.Path == "" {
				t.Fatalf("unsafe path delivered: %q", e.Path)
			}
			_, err := io.Copy(io.Discard, io.LimitReader(r, 1<<20))
			return err
		})
	})
}
