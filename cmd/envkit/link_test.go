package main

import (
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/envkit/envkit/internal/conformance"
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
