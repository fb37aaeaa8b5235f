package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestCheckStatic(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("ELF executables only")
	}
	if _, err := exec.LookPath("cc"); err != nil {
		t.Skip("no C compiler to build a dynamically linked executable")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte("package main\n\nimport \"os/user\"\n\nfunc main() { user.Current() }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	build := func(cgo string) string {
		out := filepath.Join(dir, "bin-cgo"+cgo)
		cmd := exec.Command("go", "build", "-o", out, src)
		cmd.Env = append(os.Environ(), "CGO_ENABLED="+cgo, "GOFLAGS=")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build (CGO_ENABLED=%s): %v\n%s", cgo, err, b)
		}
		return out
	}
	if err := checkStatic(build("0")); err != nil {
		t.Errorf("static executable refused: %v", err)
	}
	err := checkStatic(build("1"))
	if err == nil || !strings.Contains(err.Error(), "dynamically linked") || !strings.Contains(err.Error(), "CGO_ENABLED=0") {
		t.Errorf("dynamic executable: %v, want a refusal naming the fix", err)
	}
	if err := checkStatic(src); err == nil {
		t.Error("a Go source file accepted as an executable")
	}
}
