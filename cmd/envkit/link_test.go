package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/envkit/envkit/internal/conformance"
	"github.com/envkit/envkit/internal/pypi/pypitest"
)

const zlibTarBz2 = "channels/conda_format_repo/linux-64/zlib-1.2.11-h7b6447c_3.tar.bz2"

func zlibRecordJSON(t *testing.T) string {
	rec := map[string]any{
		"name": "zlib", "version": "1.2.11", "build": "h7b6447c_3", "build_number": 3,
		"sha256": "1f07873d6aa0cd18760a7b215d9956f7fa63c2f2761b03f293c659fe982923fa", "md5": "2e5b81671cc2b53177b94b258b1658b2",
		"url": "https://example.invalid/linux-64/zlib-1.2.11-h7b6447c_3.tar.bz2", "channel": "https://example.invalid",
		"fn": "zlib-1.2.11-h7b6447c_3.tar.bz2", "subdir": "linux-64", "depends": []string{"libgcc-ng >=7.3.0"},
	}
	b, _ := json.Marshal(rec)
	return string(b)
}

func checkLinkOutput(t *testing.T, dir string, epoch time.Time) {
	t.Helper()
	pc, err := os.ReadFile(filepath.Join(dir, "opt/env/lib/pkgconfig/zlib.pc"))
	if err != nil || !strings.HasPrefix(string(pc), "prefix=/opt/env\n") {
		t.Errorf("zlib.pc: %q %v", pc, err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "opt/env/conda-meta/zlib-1.2.11-h7b6447c_3.json"))
	if err != nil || !strings.Contains(string(b), `"requested_spec": "zlib >=1.2"`) || !strings.Contains(string(b), `"url": "https://example.invalid/`) {
		t.Errorf("record: %s %v", b, err)
	}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		st, _ := os.Lstat(p)
		if !st.ModTime().Equal(epoch) {
			t.Errorf("%s: mtime %v, want %v", p, st.ModTime(), epoch)
		}
		return nil
	})
}

func TestLinkCommand(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("SOURCE_DATE_EPOCH", "86400")
	code := run([]string{"link", "--prefix", "/opt/env", "--dest", dir, "--record", zlibRecordJSON(t), "--requested-spec", "zlib >=1.2", conformance.Dir(t, zlibTarBz2)})
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	checkLinkOutput(t, dir, time.Unix(86400, 0))
}

func TestLinkCommandRejects(t *testing.T) {
	archive := conformance.Dir(t, zlibTarBz2)
	bad := strings.Replace(zlibRecordJSON(t), "1f07873d", "00000000", 1)
	dir := t.TempDir()
	if code := run([]string{"link", "--prefix", "/opt/env", "--dest", dir, "--record", bad, archive}); code != 1 {
		t.Errorf("bad sha256: exit %d, want 1", code)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("rejected archive left %v", left)
	}
	for _, args := range [][]string{
		{"link", "--prefix", "opt/env", "--dest", dir, archive},
		{"link", "--prefix", "/opt/env", archive},
		{"link", "--prefix", "/opt/env", "--dest", dir, "--python", "3", archive},
		{"link", "--finalize", "--prefix", "/opt/env", archive},
	} {
		if code := run(args); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

// testRecipeRecord is a package of the conformance channel test-recipes
// and its repodata record as JSON, as the BuildKit step receives it.
func testRecipeRecord(t *testing.T, fn string) (archive, record string) {
	t.Helper()
	dir := conformance.Dir(t, "channels", "test-recipes", "noarch")
	dt, err := os.ReadFile(filepath.Join(dir, "repodata.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rd struct {
		Packages map[string]map[string]any `json:"packages.conda"`
	}
	if err := json.Unmarshal(dt, &rd); err != nil {
		t.Fatal(err)
	}
	rec := rd.Packages[fn]
	if rec == nil {
		t.Fatalf("%s not in test-recipes", fn)
	}
	rec["fn"], rec["url"] = fn, "https://example.invalid/noarch/"+fn
	b, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, fn), string(b)
}

// TestLinkCommandSeveral links a group of packages in one run, as a
// layer beyond the layer budget does: each --record goes with the
// ARCHIVE in the same position.
func TestLinkCommandSeveral(t *testing.T) {
	small, smallRec := testRecipeRecord(t, "small-executable-1.0-0.conda")
	noarch, noarchRec := testRecipeRecord(t, "sample_noarch_python-1.0-py_0.conda")
	zlib := conformance.Dir(t, zlibTarBz2)
	t.Setenv("SOURCE_DATE_EPOCH", "86400")
	dir := t.TempDir()
	code := run([]string{"link", "--prefix", "/opt/env", "--dest", dir, "--python", "3.99",
		"--record", noarchRec, noarch, "--record", smallRec, small, "--record", zlibRecordJSON(t), zlib})
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, f := range []string{
		"conda-meta/sample_noarch_python-1.0-py_0.json", "conda-meta/small-executable-1.0-0.json", "conda-meta/zlib-1.2.11-h7b6447c_3.json",
		"lib/python3.99/site-packages/sample.py", "lib/pkgconfig/zlib.pc",
	} {
		if _, err := os.Stat(filepath.Join(dir, "opt/env", f)); err != nil {
			t.Error(err)
		}
	}
	// Records go to their own archive: each conda-meta file has its url.
	b, err := os.ReadFile(filepath.Join(dir, "opt/env/conda-meta/small-executable-1.0-0.json"))
	if err != nil || !strings.Contains(string(b), `"url": "https://example.invalid/noarch/small-executable-1.0-0.conda"`) {
		t.Errorf("small-executable record: %s %v", b, err)
	}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if st, _ := os.Lstat(p); !st.ModTime().Equal(time.Unix(86400, 0)) {
			t.Errorf("%s: mtime %v", p, st.ModTime())
		}
		return nil
	})
}

// A group that fails leaves nothing in DEST: a bad sha256 in the last
// archive stops the run before the first is written; a failure only
// linking finds (here a noarch: python package without --python) takes
// back the packages linked before it.
func TestLinkCommandSeveralFails(t *testing.T) {
	small, smallRec := testRecipeRecord(t, "small-executable-1.0-0.conda")
	noarch, noarchRec := testRecipeRecord(t, "sample_noarch_python-1.0-py_0.conda")
	zlib := conformance.Dir(t, zlibTarBz2)
	badZlib := strings.Replace(zlibRecordJSON(t), "1f07873d", "00000000", 1)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"bad sha256", []string{"--python", "3.99", "--record", noarchRec, noarch, "--record", smallRec, small, "--record", badZlib, zlib}, "zlib-1.2.11-h7b6447c_3.tar.bz2"},
		{"noarch python without --python", []string{"--record", smallRec, small, "--record", noarchRec, noarch}, "--python X.Y"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			_, stderr, code := runSolveCLI(t, append([]string{"link", "--prefix", "/opt/env", "--dest", dir}, tc.args...)...)
			if code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr %q, want it to contain %q", stderr, tc.want)
			}
			if left, _ := os.ReadDir(dir); len(left) != 0 {
				t.Errorf("the failed group left %v", left)
			}
		})
	}
	dir := t.TempDir()
	for _, args := range [][]string{
		{"--record", smallRec, small, zlib},
		{"--record", smallRec, "--record", zlibRecordJSON(t), zlib},
		{"--requested-spec", "zlib", "--record", smallRec, small, "--record", zlibRecordJSON(t), zlib},
		{"--record", "{", small, "--record", zlibRecordJSON(t), zlib},
	} {
		if code := run(append([]string{"link", "--prefix", "/opt/env", "--dest", dir}, args...)); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

// TestLinkInScratch builds the static binary and runs it chrooted into a
// directory holding only the binary and the archive, as in BuildKit's
// exec on scratch: no shell, /tmp or /proc.
func TestLinkInScratch(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chroot needs root")
	}
	root := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(root, "envkit"), ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("static build: %v\n%s", err, out)
	}
	data, err := os.ReadFile(conformance.Dir(t, zlibTarBz2))
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(root, "in"), 0o755)
	os.MkdirAll(filepath.Join(root, "out"), 0o755)
	os.WriteFile(filepath.Join(root, "in", "zlib.tar.bz2"), data, 0o444)
	cmd := exec.Command("chroot", root, "/envkit", "link", "--prefix", "/opt/env", "--dest", "/out",
		"--record", zlibRecordJSON(t), "--requested-spec", "zlib >=1.2", "/in/zlib.tar.bz2")
	cmd.Env = []string{"SOURCE_DATE_EPOCH=0"}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("link in scratch: %v\n%s", err, out)
	}
	checkLinkOutput(t, filepath.Join(root, "out"), time.Unix(0, 0))
}

// TestLinkWheel installs two pip wheels into DIR/PREFIX as the BuildKit
// step does: PREFIX holds the environment's python (which compiles the
// .pyc) and is not written; everything lands under DIR with the epoch.
func TestLinkWheel(t *testing.T) {
	host, err := exec.Command("python3.11", "-c", "import sys; print(sys.executable)").Output()
	if err != nil {
		t.Skip("no python3.11 on this machine")
	}
	dists := []pypitest.Dist{
		{Name: "colour-util", Version: "1.0", Files: map[string]string{"colour_util/names.py": "RED = 'red'\n"}},
		{Name: "greet", Version: "2.0", Requires: []string{"colour-util"}, EntryPoints: "[console_scripts]\ngreet = greet:main\n"},
	}
	tmp := t.TempDir()
	prefix, dest := filepath.Join(tmp, "env"), filepath.Join(tmp, "out")
	if err := os.MkdirAll(filepath.Join(prefix, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(strings.TrimSpace(string(host)), filepath.Join(prefix, "bin", "python3.11")); err != nil {
		t.Fatal(err)
	}
	args := []string{"link", "--prefix", prefix, "--dest", dest, "--python", "3.11", "--compile"}
	for _, d := range dists {
		data := d.Build()
		p := filepath.Join(tmp, d.Filename())
		if err := os.WriteFile(p, data, 0o444); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		args = append(args, "--wheel", p+"#sha256="+hex.EncodeToString(sum[:]))
	}
	t.Setenv("SOURCE_DATE_EPOCH", "86400")
	if code := run(args); code != 0 {
		t.Fatalf("exit %d", code)
	}
	staged := filepath.Join(dest, prefix)
	site := filepath.Join(staged, "lib/python3.11/site-packages")
	for _, f := range []string{"colour_util/__pycache__/names.cpython-311.pyc", "greet/__pycache__/__init__.cpython-311.pyc", "greet-2.0.dist-info/INSTALLER"} {
		if _, err := os.Stat(filepath.Join(site, f)); err != nil {
			t.Error(err)
		}
	}
	script, err := os.ReadFile(filepath.Join(staged, "bin", "greet"))
	if err != nil || !strings.HasPrefix(string(script), "#!"+prefix+"/bin/python3.11\n") {
		t.Errorf("bin/greet: %q %v", script, err)
	}
	if entries, _ := os.ReadDir(filepath.Join(prefix, "bin")); len(entries) != 1 {
		t.Errorf("the prefix itself was written: %v", entries)
	}
	filepath.WalkDir(dest, func(p string, d fs.DirEntry, err error) error {
		if st, _ := os.Lstat(p); !st.ModTime().Equal(time.Unix(86400, 0)) {
			t.Errorf("%s: mtime %v", p, st.ModTime())
		}
		return nil
	})

	// A wrong sha256 names the wheel and writes nothing.
	bad := t.TempDir()
	wrong := args[len(args)-1][:len(args[len(args)-1])-8] + "00000000"
	_, stderr, code := runSolveCLI(t, "link", "--prefix", prefix, "--dest", bad, "--python", "3.11", "--wheel", wrong)
	if code != 1 {
		t.Errorf("bad sha256: exit %d, want 1", code)
	}
	if !strings.Contains(stderr, "greet-2.0-py3-none-any.whl") || !strings.Contains(stderr, "sha256") {
		t.Errorf("bad sha256: %q, want the wheel named", stderr)
	}
	if left, _ := os.ReadDir(bad); len(left) != 0 {
		t.Errorf("rejected wheel left %v", left)
	}
	for _, a := range [][]string{
		{"link", "--prefix", prefix, "--dest", bad, "--python", "3.11", "--wheel", "x.whl"},
		{"link", "--prefix", prefix, "--dest", bad, "--wheel", wrong},
		{"link", "--prefix", prefix, "--dest", bad, "--python", "3.11", "--finalize", "--wheel", wrong},
		{"link", "--prefix", prefix, "--dest", bad, "--compile", "x.tar.bz2"},
	} {
		if code := run(a); code != 2 {
			t.Errorf("%v: exit %d, want 2", a, code)
		}
	}
}

// BenchmarkLinkWheel is the BuildKit wheel step on the real pip wheel
// CPython bundles for ensurepip (2 MB, about 500 files): install into
// DIR/PREFIX, then (compile) .pyc with the environment's python and RECORD
// updated. cpu-ns/op counts this process only, not python's.
func BenchmarkLinkWheel(b *testing.B) {
	paths, _ := filepath.Glob("/root/.pyenv/versions/3.11.*/lib/python3.11/ensurepip/_bundled/pip-*.whl")
	if len(paths) == 0 {
		b.Skip("no bundled pip wheel on this machine")
	}
	data, err := os.ReadFile(paths[0])
	if err != nil {
		b.Fatal(err)
	}
	sum := sha256.Sum256(data)
	spec := paths[0] + "#sha256=" + hex.EncodeToString(sum[:])
	python := filepath.Join(filepath.Dir(filepath.Dir(filepath.Dir(filepath.Dir(filepath.Dir(paths[0]))))), "bin", "python3.11")
	for _, compile := range []bool{false, true} {
		b.Run(fmt.Sprintf("compile=%v", compile), func(b *testing.B) {
			tmp := b.TempDir()
			prefix := filepath.Join(tmp, "env")
			os.MkdirAll(filepath.Join(prefix, "bin"), 0o755)
			if err := os.Symlink(python, filepath.Join(prefix, "bin", "python3.11")); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)))
			i := 0
			for b.Loop() {
				if err := linkWheels([]string{spec}, prefix, filepath.Join(tmp, fmt.Sprint(i)), "3.11", compile, time.Unix(0, 0)); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
