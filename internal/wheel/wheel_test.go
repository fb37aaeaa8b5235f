package wheel

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/envkit/envkit/internal/pypi/pypitest"
)

var tool = pypitest.Dist{
	Name: "Demo.Tool", Version: "1.2",
	Files: map[string]string{
		"demo_tool/cli.py":                       "def main():\n    print('demo-tool says hi')\n    return 0\n",
		"demo_tool-1.2.data/scripts/raw-tool":    "#!python\nprint('raw')\n",
		"demo_tool-1.2.data/headers/demo.h":      "#define DEMO 1\n",
		"demo_tool-1.2.data/data/share/demo.txt": "shared\n",
		"demo_tool-1.2.data/platlib/_demo.py":    "X = 1\n",
	},
	EntryPoints: "[console_scripts]\ndemo-tool = demo_tool.cli:main\n\n[other]\nx = y:z\n",
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestInstall(t *testing.T) {
	data := tool.Build()
	prefix := t.TempDir()
	epoch := time.Unix(1700000000, 0)
	inst, err := InstallBytes(tool.Filename(), data, prefix, "3.11", Options{
		SHA256: sha(data), URL: "http://127.0.0.1:1/files/" + tool.Filename(), Requested: true, ModTime: epoch,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"bin/demo-tool", "bin/raw-tool", "include/python3.11/demo_tool/demo.h",
		"lib/python3.11/site-packages/_demo.py",
		"lib/python3.11/site-packages/demo_tool-1.2.dist-info/INSTALLER",
		"lib/python3.11/site-packages/demo_tool-1.2.dist-info/METADATA",
		"lib/python3.11/site-packages/demo_tool-1.2.dist-info/RECORD",
		"lib/python3.11/site-packages/demo_tool-1.2.dist-info/REQUESTED",
		"lib/python3.11/site-packages/demo_tool-1.2.dist-info/WHEEL",
		"lib/python3.11/site-packages/demo_tool-1.2.dist-info/direct_url.json",
		"lib/python3.11/site-packages/demo_tool-1.2.dist-info/entry_points.txt",
		"lib/python3.11/site-packages/demo_tool/__init__.py",
		"lib/python3.11/site-packages/demo_tool/cli.py",
		"share/demo.txt",
	}
	if got := strings.Join(inst.Files, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("files:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	read := func(p string) string {
		b, err := os.ReadFile(filepath.Join(prefix, p))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if s := read("bin/raw-tool"); !strings.HasPrefix(s, "#!"+prefix+"/bin/python3.11\n") {
		t.Errorf("raw-tool shebang: %q", s)
	}
	if s := read("bin/demo-tool"); !strings.Contains(s, "from demo_tool.cli import main\n") || !strings.Contains(s, "sys.exit(main())") {
		t.Errorf("demo-tool: %s", s)
	}
	rec := read("lib/python3.11/site-packages/demo_tool-1.2.dist-info/RECORD")
	for _, line := range []string{"../../../bin/demo-tool,sha256=", "demo_tool-1.2.dist-info/INSTALLER,sha256=", "demo_tool-1.2.dist-info/RECORD,,\n", "../../../share/demo.txt,"} {
		if !strings.Contains(rec, line) {
			t.Errorf("RECORD lacks %q:\n%s", line, rec)
		}
	}
	if read("lib/python3.11/site-packages/demo_tool-1.2.dist-info/INSTALLER") != "envkit\n" {
		t.Error("INSTALLER")
	}
	fi, err := os.Stat(filepath.Join(prefix, "bin/demo-tool"))
	if err != nil || fi.Mode().Perm() != 0o755 || !fi.ModTime().Equal(epoch) {
		t.Errorf("bin/demo-tool: %v %v", fi.Mode(), fi.ModTime())
	}
	entries, _ := os.ReadDir(prefix)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".envkit-wheel-") {
			t.Errorf("staging directory left: %s", e.Name())
		}
	}
}

// TestPythonImportsAndListsIt runs the host's python on the installed
// tree: the module imports, the console script runs, and the distribution
// is found with its RECORD and INSTALLER.
func TestPythonImportsAndListsIt(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3 on this machine")
	}
	data := tool.Build()
	prefix := t.TempDir()
	if _, err := InstallBytes(tool.Filename(), data, prefix, "3.11", Options{SHA256: sha(data), Python: python}); err != nil {
		t.Fatal(err)
	}
	site := filepath.Join(prefix, "lib/python3.11/site-packages")
	run := func(name string, args ...string) string {
		cmd := exec.Command(name, args...)
		cmd.Env = append(os.Environ(), "PYTHONPATH="+site, "PIP_DISABLE_PIP_VERSION_CHECK=1", "PIP_NO_INDEX=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
		return string(out)
	}
	if out := run(python, "-c", "import demo_tool, _demo; print(demo_tool.__version__)"); out != "1.2\n" {
		t.Errorf("import: %q", out)
	}
	if out := run(filepath.Join(prefix, "bin/demo-tool")); out != "demo-tool says hi\n" {
		t.Errorf("console script: %q", out)
	}
	// importlib.metadata is what pip (23+, on python 3.11+) lists
	// distributions with; pip itself takes seconds to start here.
	out := run(python, "-c", `import importlib.metadata as m
d = m.distribution("demo-tool")
print(d.version, d.read_text("INSTALLER").strip(), len(d.files), sorted(str(f) for f in d.files if "bin" in str(f)))`)
	if want := "1.2 envkit 12 ['../../../bin/demo-tool', '../../../bin/raw-tool']\n"; out != want {
		t.Errorf("importlib.metadata: %q, want %q", out, want)
	}
}

func TestRejectedWheelLeavesNothing(t *testing.T) {
	data := tool.Build()
	tampered := rewrite(t, data, "demo_tool/cli.py", "print('changed')\n")
	for name, c := range map[string]struct {
		data []byte
		sha  string
		want string
	}{
		"wrong sha256":     {data, strings.Repeat("0", 64), "sha256"},
		"no sha256":        {data, "", "no sha256"},
		"member vs RECORD": {tampered, sha(tampered), "RECORD"},
		"not a zip":        {[]byte("nope"), sha([]byte("nope")), "zip"},
	} {
		parent := t.TempDir()
		prefix := filepath.Join(parent, "env")
		_, err := InstallBytes(tool.Filename(), c.data, prefix, "3.11", Options{SHA256: c.sha})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v", name, err)
		}
		if entries, _ := os.ReadDir(parent); len(entries) != 0 {
			t.Errorf("%s: left %v behind", name, entries)
		}
	}
}

// rewrite returns the wheel with one member's content replaced (its RECORD
// line unchanged).
func rewrite(t *testing.T, wheel []byte, member, content string) []byte {
	zr, err := zip.NewReader(bytes.NewReader(wheel), int64(len(wheel)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		w, err := zw.Create(f.Name)
		if err != nil {
			t.Fatal(err)
		}
		if f.Name == member {
			io.WriteString(w, content)
			continue
		}
		rc, _ := f.Open()
		io.Copy(w, rc)
		rc.Close()
	}
	zw.Close()
	return buf.Bytes()
}

func TestUnsafeArchivePaths(t *testing.T) {
	for _, p := range []string{"../evil.py", "/etc/passwd", "a/../../b", `a\b`} {
		if safePath(p) == nil {
			t.Errorf("%s accepted", p)
		}
	}
}

func TestInstallFromFile(t *testing.T) {
	data := tool.Build()
	dir := t.TempDir()
	path := filepath.Join(dir, tool.Filename())
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOURCE_DATE_EPOCH", "86400")
	epoch, err := SourceDateEpoch()
	if err != nil || epoch.Unix() != 86400 {
		t.Fatal(epoch, err)
	}
	if _, err := Install(path, filepath.Join(dir, "env"), "3.12", Options{SHA256: sha(data), ModTime: epoch}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "env/lib/python3.12/site-packages/demo_tool/cli.py"))
	if err != nil || fi.ModTime().Unix() != 86400 || fi.Mode().Perm() != 0o644 {
		t.Errorf("%v %v", fi, err)
	}
}

// TestPlantedLinkOut: a prefix holding links that leave it (planted by
// an earlier package, or by hand) must not lead the wheel's writes out:
// the install fails, writes nothing outside, and takes back what it did.
func TestPlantedLinkOut(t *testing.T) {
	data := tool.Build()
	for _, planted := range []struct{ at, target string }{
		{"lib/python3.11/site-packages/demo_tool", "../../../../out"},
		{"bin", "OUT"},
		{"lib/python3.11/site-packages/demo_tool-1.2.dist-info", "OUT"},
	} {
		parent := t.TempDir()
		out := filepath.Join(parent, "out")
		prefix := filepath.Join(parent, "env")
		os.MkdirAll(out, 0o755)
		os.MkdirAll(filepath.Join(prefix, filepath.Dir(planted.at)), 0o755)
		if err := os.Symlink(strings.Replace(planted.target, "OUT", out, 1), filepath.Join(prefix, planted.at)); err != nil {
			t.Fatal(err)
		}
		_, err := InstallBytes(tool.Filename(), data, prefix, "3.11", Options{SHA256: sha(data)})
		if err == nil || !strings.Contains(err.Error(), planted.at) {
			t.Errorf("%s: got %v, want the planted link named", planted.at, err)
		}
		if ls, _ := os.ReadDir(out); len(ls) != 0 {
			t.Errorf("%s: written outside the prefix: %v", planted.at, ls)
		}
		var left []string
		filepath.WalkDir(prefix, func(p string, d os.DirEntry, err error) error {
			if d != nil && !d.IsDir() && d.Type()&os.ModeSymlink == 0 {
				left = append(left, p)
			}
			return nil
		})
		if len(left) != 0 {
			t.Errorf("%s: left %v", planted.at, left)
		}
	}
}
