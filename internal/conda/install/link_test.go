package install

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/envkit/envkit/internal/conda/pkg"
	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/envkit/envkit/internal/conformance"
)

func allPackages(t *testing.T) []string {
	var files []string
	for _, pattern := range []string{"channels/*/*/*.conda", "channels/*/*/*.tar.bz2", "packages/rattler/*.conda", "packages/rattler/*.tar.bz2"} {
		m, _ := filepath.Glob(conformance.Dir(t, pattern))
		files = append(files, m...)
	}
	if len(files) < 80 {
		t.Fatalf("found only %d conformance packages", len(files))
	}
	sort.Strings(files)
	return files
}

// TestLinkEveryConformancePackage links each package into its own prefix
// and checks the record against the archive's own file list.
func TestLinkEveryConformancePackage(t *testing.T) {
	for _, file := range allPackages(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			dest := t.TempDir()
			rec, err := Link(file, dest, Options{Prefix: "/opt/env", Python: &Python{Version: "3.11"}})
			if err != nil {
				t.Fatal(err)
			}
			if len(rec.Files) != len(rec.PathsData.Paths) {
				t.Errorf("files (%d) and paths_data (%d) differ", len(rec.Files), len(rec.PathsData.Paths))
			}
			for _, p := range rec.PathsData.Paths {
				st, err := os.Lstat(filepath.Join(dest, p.Path))
				if err != nil {
					t.Errorf("%s recorded but not written: %v", p.Path, err)
					continue
				}
				if p.PathType == HardLink && p.PrefixPlaceholder == "" && p.SHA256 != "" && p.SHA256 != p.SHA256InPrefix {
					t.Errorf("%s: sha256 in prefix %s, package says %s", p.Path, p.SHA256InPrefix, p.SHA256)
				}
				if p.PathType == SoftLink && st.Mode()&os.ModeSymlink == 0 {
					t.Errorf("%s: softlink written as %v", p.Path, st.Mode())
				}
			}
			if _, err := os.Stat(filepath.Join(dest, "conda-meta", rec.Dist()+".json")); err != nil {
				t.Error(err)
			}
		})
	}
}

// placeholderSites lists the offsets of placeholder in data.
func placeholderSites(data []byte, placeholder string) []int {
	var sites []int
	for off := 0; ; {
		i := bytes.Index(data[off:], []byte(placeholder))
		if i < 0 {
			return sites
		}
		sites = append(sites, off+i)
		off += i + len(placeholder)
	}
}

// originalFile reads one payload file from an archive.
func originalFile(t *testing.T, archive, p string) []byte {
	var out []byte
	err := pkg.WalkFile(archive, pkg.Payload, func(e *pkg.Entry, r io.Reader) error {
		if e.Path == p {
			b, err := io.ReadAll(r)
			out = b
			return err
		}
		return nil
	})
	if err != nil || out == nil {
		t.Fatalf("%s in %s: %v", p, archive, err)
	}
	return out
}

// TestZlibPrefixes installs the real zlib-1.2.11 from both formats into
// prefixes of several lengths and checks the bytes around every
// placeholder site: text replacement in zlib.pc (linux-64) and NUL-padded
// binary replacement in the osx-64 dylib (the only real binary
// placeholders in the conformance data; the replacement is the same on
// every Unix).
func TestZlibPrefixes(t *testing.T) {
	prefixes := []string{"/e", "/opt/conda/envs/zlib", "/" + strings.Repeat("long/", 40) + "env"}
	type target struct{ subdir, build, file, mode string }
	targets := []target{
		{"linux-64", "h7b6447c_3", "lib/pkgconfig/zlib.pc", "text"},
		{"osx-64", "h1de35cc_3", "lib/libz.1.2.11.dylib", "binary"},
	}
	for _, tg := range targets {
		for _, ext := range []string{".conda", ".tar.bz2"} {
			archive := conformance.Dir(t, "channels/conda_format_repo", tg.subdir, "zlib-1.2.11-"+tg.build+ext)
			for _, prefix := range prefixes {
				t.Run(tg.subdir+ext+"/"+prefix[:min(len(prefix), 20)], func(t *testing.T) {
					dest := t.TempDir()
					rec, err := Link(archive, dest, Options{Prefix: prefix})
					if err != nil {
						t.Fatal(err)
					}
					var pe PathEntry
					for _, p := range rec.PathsData.Paths {
						if p.Path == tg.file {
							pe = p
						}
					}
					if pe.FileMode != tg.mode || pe.PrefixPlaceholder == "" {
						t.Fatalf("%s: recorded %+v", tg.file, pe)
					}
					orig := originalFile(t, archive, tg.file)
					got, err := os.ReadFile(filepath.Join(dest, tg.file))
					if err != nil {
						t.Fatal(err)
					}
					sites := placeholderSites(orig, pe.PrefixPlaceholder)
					if len(sites) == 0 {
						t.Fatal("no placeholder in the original")
					}
					if tg.mode == "binary" {
						checkBinarySites(t, orig, got, sites, pe.PrefixPlaceholder, prefix)
					} else {
						want := strings.ReplaceAll(string(orig), pe.PrefixPlaceholder, prefix)
						if string(got) != want {
							t.Errorf("zlib.pc:\n%s\nwant\n%s", got, want)
						}
						if l := "prefix=" + prefix + "\nexec_prefix=${prefix}\n"; !strings.HasPrefix(string(got), l) {
							t.Errorf("zlib.pc does not start with %q", l)
						}
					}
					sum := sha256Hex(got)
					if pe.SHA256InPrefix != sum {
						t.Errorf("sha256_in_prefix %s, file has %s", pe.SHA256InPrefix, sum)
					}
					// The links the archive stores without a target point at the library.
					for _, p := range rec.PathsData.Paths {
						if p.PathType == SoftLink {
							target, err := os.Readlink(filepath.Join(dest, p.Path))
							if err != nil || !strings.HasPrefix(target, "libz.") {
								t.Errorf("%s -> %q (%v)", p.Path, target, err)
							}
						}
					}
				})
			}
		}
	}
}

// checkBinarySites checks that at each site the C string now starts with
// prefix, continues with the original string's tail, and is NUL-padded to
// its old length, and that nothing outside the strings moved.
func checkBinarySites(t *testing.T, orig, got []byte, sites []int, placeholder, prefix string) {
	t.Helper()
	if len(got) != len(orig) {
		t.Fatalf("length %d, want %d", len(got), len(orig))
	}
	covered := 0
	for _, s := range sites {
		if s < covered {
			continue // a second placeholder inside the same string
		}
		end := s + bytes.IndexByte(orig[s:], 0)
		str := orig[s:end]
		want := bytes.ReplaceAll(str, []byte(placeholder), []byte(prefix))
		if !bytes.Equal(got[s:s+len(want)], want) {
			t.Errorf("site %d: %q, want %q", s, got[s:s+len(want)], want)
		}
		for i := s + len(want); i < end; i++ {
			if got[i] != 0 {
				t.Fatalf("site %d: byte %d is %q, want NUL padding", s, i, got[i])
			}
		}
		if got[end] != 0 {
			t.Errorf("site %d: terminator moved", s)
		}
		if !bytes.Equal(got[covered:s], orig[covered:s]) {
			t.Errorf("bytes between sites changed before %d", s)
		}
		covered = end
	}
	if !bytes.Equal(got[covered:], orig[covered:]) {
		t.Error("bytes after the last site changed")
	}
}

func TestZlibPrefixTooLong(t *testing.T) {
	archive := conformance.Dir(t, "channels/conda_format_repo/osx-64/zlib-1.2.11-h1de35cc_3.conda")
	dest := filepath.Join(t.TempDir(), "env")
	_, err := Link(archive, dest, Options{Prefix: "/" + strings.Repeat("x", 300)})
	var pe *PaddingError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "zlib-1.2.11-h1de35cc_3.conda") || !strings.Contains(err.Error(), "lib/libz.1.2.11.dylib") {
		t.Fatalf("got %v, want a padding error naming the package and file", err)
	}
}

func TestLinkVerifiesBeforeWriting(t *testing.T) {
	archive := conformance.Dir(t, "channels/conda_format_repo/linux-64/zlib-1.2.11-h7b6447c_3.tar.bz2")
	dest := filepath.Join(t.TempDir(), "env")
	rec := &repodata.Record{Name: "zlib", Version: "1.2.11", Build: "h7b6447c_3", SHA256: strings.Repeat("a", 64)}
	_, err := Link(archive, dest, Options{Prefix: "/e", Record: rec})
	var de *pkg.DigestError
	if !errors.As(err, &de) {
		t.Fatalf("got %v, want a digest error", err)
	}
	if _, err := os.Stat(dest); !os.IsNotExist(err) {
		t.Error("a rejected package left files behind")
	}
}

// TestRecordFields checks the conda-meta record against the fields of
// rattler's PrefixRecord examples (test-data/conda-meta/*.json).
func TestRecordFields(t *testing.T) {
	archive := conformance.Dir(t, "channels/conda_format_repo/linux-64/zlib-1.2.11-h7b6447c_3.conda")
	dest := t.TempDir()
	rec := &repodata.Record{
		Name: "zlib", Version: "1.2.11", Build: "h7b6447c_3", SHA256: "ac4c1dd9ae8a5a2bc52f1c79df1bae3e76ac3e23ac3ea4a4e4fc3bf9dc00b3a0",
		Channel: "https://conda.anaconda.org/conda-test", URL: "https://conda.anaconda.org/conda-test/linux-64/zlib-1.2.11-h7b6447c_3.conda",
		Filename: "zlib-1.2.11-h7b6447c_3.conda", Subdir: "linux-64", Depends: []string{"libgcc-ng >=7.3.0"},
	}
	digests, _, _ := hashFile(archive)
	rec.SHA256 = digests.SHA256
	if _, err := Link(archive, dest, Options{Prefix: "/e", Record: rec, RequestedSpec: "zlib"}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dest, "conda-meta", "zlib-1.2.11-h7b6447c_3.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"name", "version", "build", "build_number", "channel", "url", "md5", "sha256", "size",
		"depends", "constrains", "subdir", "timestamp", "files", "paths_data", "link", "requested_spec", "extracted_package_dir", "fn", "license"} {
		if _, ok := m[k]; !ok {
			t.Errorf("record lacks %q", k)
		}
	}
	if m["url"] != rec.URL || m["requested_spec"] != "zlib" || m["md5"] != digests.MD5 {
		t.Errorf("record: url %v, requested_spec %v, md5 %v", m["url"], m["requested_spec"], m["md5"])
	}
	if strings.Contains(string(b), os.TempDir()) {
		t.Error("record names a host path")
	}
	pd := m["paths_data"].(map[string]any)
	if pd["paths_version"] != 1.0 || len(pd["paths"].([]any)) != 7 {
		t.Errorf("paths_data %v", pd)
	}
}

func linkAll(t *testing.T, dest, prefix string, py *Python, files ...string) {
	t.Helper()
	for _, f := range files {
		if _, err := Link(f, dest, Options{Prefix: prefix, Python: py}); err != nil {
			t.Fatal(err)
		}
	}
}

func recipe(t *testing.T, name string) string {
	return conformance.Dir(t, "channels/test-recipes/noarch", name+".conda")
}

// TestFinalizePostLinkOrder: post_link-d's script checks for bin/file,
// which post_link-e's script writes; d depends on e, so e's must run
// first. post_link-c checks for bin/file from post_link-b. The scripts use
// bash's [[ and a top-level return, so they must be sourced by bash.
func TestFinalizePostLinkOrder(t *testing.T) {
	prefix := t.TempDir()
	linkAll(t, prefix, prefix, nil, recipe(t, "post_link-d-1.0-0"), recipe(t, "post_link-e-1.0-0"), recipe(t, "post_link-c-1.0-0"), recipe(t, "post_link-b-1.0-0"))
	epoch := time.Unix(1700000000, 0)
	if err := Finalize(prefix, FinalizeOptions{Epoch: epoch, Command: "envkit test"}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(prefix, "conda-meta", "history"))
	if err != nil {
		t.Fatal(err)
	}
	want := "==> 2023-11-14 22:13:20 <==\n# cmd: envkit test\n+<unknown>::post_link-b-1.0-0\n+<unknown>::post_link-c-1.0-0\n+<unknown>::post_link-e-1.0-0\n+<unknown>::post_link-d-1.0-0\n# update specs: []\n"
	if string(b) != want {
		t.Errorf("history:\n%s\nwant\n%s", b, want)
	}
	filepath.Walk(prefix, func(p string, st os.FileInfo, err error) error {
		if !st.ModTime().Equal(epoch) {
			t.Errorf("%s: mtime %v after Finalize", p, st.ModTime())
		}
		return nil
	})
}

func TestFinalizeFailingScript(t *testing.T) {
	prefix := t.TempDir()
	linkAll(t, prefix, prefix, nil, recipe(t, "failing_post_link-1.0-0"))
	err := Finalize(prefix, FinalizeOptions{})
	var se *ScriptError
	if !errors.As(err, &se) || se.Package != "failing_post_link-1.0-0" || se.Kind != "post-link" {
		t.Fatalf("got %v, want the failing post-link script", err)
	}
}

func TestFinalizeScriptOutputInError(t *testing.T) {
	prefix := t.TempDir()
	linkAll(t, prefix, prefix, nil, recipe(t, "post_link-c-1.0-0"))
	// Without post_link-b, bin/file is missing: stat prints an error and
	// the script returns 1.
	err := Finalize(prefix, FinalizeOptions{})
	if err == nil || !strings.Contains(err.Error(), "post_link-c-1.0-0") || !strings.Contains(err.Error(), "bin/file") {
		t.Fatalf("got %v, want post_link-c's failure with stat's message", err)
	}
}

// TestNoarchPython links sample_noarch_python under the fake python-3.99.99
// (CEP 17 site-packages path) and, with a real python, compiles its .pyc.
func TestNoarchPython(t *testing.T) {
	prefix := t.TempDir()
	py := &Python{Version: "3.99", SitePackages: "lib/python3.99t/site-packages"}
	linkAll(t, prefix, prefix, py, recipe(t, "python-3.99.99-0"), recipe(t, "sample_noarch_python-1.0-py_0"))
	if _, err := os.Stat(filepath.Join(prefix, "lib/python3.99t/site-packages/sample.py")); err != nil {
		t.Fatal(err)
	}
	if err := Finalize(prefix, FinalizeOptions{}); err != nil {
		t.Fatal(err)
	}

	prefix = t.TempDir()
	_, ver := prefixPython(t, prefix)
	linkAll(t, prefix, prefix, &Python{Version: ver}, recipe(t, "sample_noarch_python-1.0-py_0"))
	if err := Finalize(prefix, FinalizeOptions{}); err != nil {
		t.Fatal(err)
	}
	recs, err := ReadRecords(prefix)
	if err != nil || len(recs) != 1 {
		t.Fatal(recs, err)
	}
	var pyc string
	for _, p := range recs[0].PathsData.Paths {
		if p.PathType == PycFile {
			pyc = p.Path
		}
	}
	if !strings.HasPrefix(pyc, "lib/python"+ver+"/site-packages/__pycache__/sample.") {
		t.Fatalf("pyc recorded as %q", pyc)
	}
	b, err := os.ReadFile(filepath.Join(prefix, pyc))
	if err != nil {
		t.Fatal(err)
	}
	// PEP 552 flags: 0b01 = hash-based, 0b10 unset = unchecked.
	if len(b) < 8 || b[4] != 1 {
		t.Errorf("pyc flags %v, want unchecked-hash", b[4:8])
	}
}

// TestEntryPoints links a noarch: python package with entry points built
// in the test (no conformance package has one).
func TestEntryPointScript(t *testing.T) {
	got := entryPointShebang("/opt/env/bin/python3.11") + "\n" + entryPointScript("jupyterlab.labapp", "main")
	want := "#!/opt/env/bin/python3.11\n# -*- coding: utf-8 -*-\nimport re\nimport sys\n\nfrom jupyterlab.labapp import main\n\n" +
		"if __name__ == '__main__':\n    sys.argv[0] = re.sub(r'(-script\\.pyw?|\\.exe)?$', '', sys.argv[0])\n    sys.exit(main())\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if s := entryPointShebang("/" + strings.Repeat("x", 130) + "/bin/python3.11"); s != "#!/usr/bin/env python3.11" {
		t.Errorf("long: %s", s)
	}
}

func TestDependencyOrder(t *testing.T) {
	recs := []*repodata.Record{
		{Name: "d", Depends: []string{"e"}}, {Name: "c", Depends: []string{"b >=1"}}, {Name: "b"}, {Name: "e"},
		{Name: "x", Depends: []string{"y"}}, {Name: "y", Depends: []string{"x"}},
	}
	var names []string
	for _, r := range DependencyOrder(recs) {
		names = append(names, r.Name)
	}
	if got := strings.Join(names, " "); got != "b c e d x y" {
		t.Errorf("order %s", got)
	}
}

func sha256Hex(b []byte) string {
	h := pkg.NewHasher()
	h.Write(b)
	return h.Sums().SHA256
}

// condaPackage builds a .conda holding the given info and payload files
// (the conformance data has no package with entry points).
func condaPackage(t *testing.T, dir, name string, info, payload map[string]string) string {
	t.Helper()
	tarOf := func(files map[string]string) []byte {
		var b bytes.Buffer
		tw := tar.NewWriter(&b)
		names := make([]string, 0, len(files))
		for n := range files {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			tw.WriteHeader(&tar.Header{Name: n, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(files[n]))})
			tw.Write([]byte(files[n]))
		}
		tw.Close()
		enc, _ := zstd.NewWriter(nil)
		return enc.EncodeAll(b.Bytes(), nil)
	}
	var z bytes.Buffer
	zw := zip.NewWriter(&z)
	for _, m := range []struct {
		name  string
		files map[string]string
	}{{"info-" + name + ".tar.zst", info}, {"pkg-" + name + ".tar.zst", payload}} {
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: m.name, Method: zip.Store})
		w.Write(tarOf(m.files))
	}
	zw.Close()
	file := filepath.Join(dir, name+".conda")
	if err := os.WriteFile(file, z.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

func TestLinkNoarchPythonEntryPoints(t *testing.T) {
	ph := DefaultPlaceholder
	archive := condaPackage(t, t.TempDir(), "tool-1.0-pyh_0", map[string]string{
		"info/index.json": `{"name":"tool","version":"1.0","build":"pyh_0","build_number":0,"depends":["python >=3.8"],"noarch":"python","subdir":"noarch"}`,
		"info/link.json":  `{"noarch":{"type":"python","entry_points":["tool = tool.cli:main","tool-x = tool.cli:Cmd.run"]},"package_metadata_version":1}`,
		"info/paths.json": `{"paths_version":1,"paths":[{"_path":"site-packages/tool/__init__.py","path_type":"hardlink"},` +
			`{"_path":"site-packages/tool/cli.py","path_type":"hardlink"},` +
			`{"_path":"python-scripts/tool-legacy","path_type":"hardlink","file_mode":"text","prefix_placeholder":"` + ph + `"}]}`,
	}, map[string]string{
		"site-packages/tool/__init__.py": "",
		"site-packages/tool/cli.py":      "def main(): return 0\n",
		"python-scripts/tool-legacy":     "#!" + ph + "/bin/python\nprint('legacy')\n",
	})
	dest := t.TempDir()
	rec, err := Link(archive, dest, Options{Prefix: "/opt/env", Python: &Python{Version: "3.11"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"lib/python3.11/site-packages/tool/__init__.py", "lib/python3.11/site-packages/tool/cli.py", "bin/tool-legacy", "bin/tool", "bin/tool-x"}
	if strings.Join(rec.Files, " ") != strings.Join(want, " ") {
		t.Errorf("files %v, want %v", rec.Files, want)
	}
	if b, _ := os.ReadFile(filepath.Join(dest, "bin/tool-legacy")); string(b) != "#!/opt/env/bin/python\nprint('legacy')\n" {
		t.Errorf("bin/tool-legacy: %q", b)
	}
	b, _ := os.ReadFile(filepath.Join(dest, "bin/tool-x"))
	if !strings.HasPrefix(string(b), "#!/opt/env/bin/python3.11\n") || !strings.Contains(string(b), "from tool.cli import Cmd\n") || !strings.Contains(string(b), "sys.exit(Cmd.run())") {
		t.Errorf("bin/tool-x:\n%s", b)
	}
	if st, _ := os.Stat(filepath.Join(dest, "bin/tool")); st == nil || st.Mode().Perm() != 0o755 {
		t.Errorf("bin/tool mode %v", st)
	}
	if rec.PathsData.Paths[3].PathType != UnixPythonEntryPoint || rec.Noarch != "python" {
		t.Errorf("entry point recorded as %+v, noarch %q", rec.PathsData.Paths[3], rec.Noarch)
	}
	if _, err := Link(archive, t.TempDir(), Options{Prefix: "/opt/env"}); err == nil || !strings.Contains(err.Error(), "--python") {
		t.Errorf("without python: %v", err)
	}
}

func FuzzReadInfo(f *testing.F) {
	f.Add([]byte(`{"name":"a","version":"1","build":"0"}`), []byte(`{"paths":[{"_path":"bin/x","prefix_placeholder":"/p"}]}`), []byte("bin/x\n"), []byte("/p text bin/x\n"))
	f.Add([]byte(`{"name":"a"}`), []byte(`{"paths":[{"_path":"../x"}]}`), []byte(""), []byte("\"/p q\" binary lib/y"))
	f.Fuzz(func(t *testing.T, index, paths, files, hasPrefix []byte) {
		for _, withPaths := range []bool{true, false} {
			m := map[string][]byte{"info/index.json": index, "info/files": files, "info/has_prefix": hasPrefix}
			if withPaths {
				m["info/paths.json"] = paths
			}
			in, err := readInfo("fuzz", m)
			if err != nil {
				continue
			}
			for _, p := range in.paths {
				if p.Path == "" || strings.HasPrefix(p.Path, "/") || strings.Contains("/"+p.Path+"/", "/../") {
					t.Fatalf("unsafe path accepted: %q", p.Path)
				}
			}
		}
	})
}

// TestFinalizeMessages: rattler's link-scripts package's post-link script
// touches a file and appends to .messages.txt, which goes to the user and
// out of the environment.
func TestFinalizeMessages(t *testing.T) {
	prefix := t.TempDir()
	linkAll(t, prefix, prefix, nil, conformance.Dir(t, "packages/rattler/link-scripts-0.1.0-h4616a5c_0.conda"))
	var msgs bytes.Buffer
	if err := Finalize(prefix, FinalizeOptions{Messages: &msgs}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(prefix, "i-was-post-linked")); err != nil {
		t.Error("post-link script did not run")
	}
	if _, err := os.Stat(filepath.Join(prefix, ".messages.txt")); !os.IsNotExist(err) {
		t.Error(".messages.txt left in the environment")
	}
	if !strings.Contains(msgs.String(), "This is a post-link script that just ran") {
		t.Errorf("messages %q", msgs.String())
	}
}

// A bad archive anywhere in a LinkAll list stops it before the first
// package is written.
func TestLinkAllVerifiesEveryArchiveFirst(t *testing.T) {
	good := conformance.Dir(t, "channels/conda_format_repo/linux-64/zlib-1.2.11-h7b6447c_3.tar.bz2")
	bad := conformance.Dir(t, "channels/conda_format_repo/linux-64/zlib-1.2.11-h7b6447c_3.conda")
	dest := filepath.Join(t.TempDir(), "env")
	_, err := LinkAll([]Package{
		{Archive: good, Options: Options{Prefix: "/e"}},
		{Archive: bad, Options: Options{Prefix: "/e", Record: &repodata.Record{Name: "zlib", SHA256: strings.Repeat("a", 64)}}},
	}, dest)
	var de *pkg.DigestError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "zlib-1.2.11-h7b6447c_3.conda") {
		t.Fatalf("got %v, want a digest error naming the .conda archive", err)
	}
	if _, err := os.Stat(dest); !os.IsNotExist(err) {
		t.Error("the first package was written before the second was verified")
	}
}
