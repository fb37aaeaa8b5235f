package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/envkit/envkit/frontend"
	"github.com/envkit/envkit/internal/spec"
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

// TestLinkBinaryDirs: this executable serves its own platform; a foreign
// one needs its cross-compiled envkit beside it, and the refusal says how
// to make it.
func TestLinkBinaryDirs(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("ELF executables only")
	}
	host := ocispecs.Platform{OS: "linux", Architecture: runtime.GOARCH}
	foreign := ocispecs.Platform{OS: "linux", Architecture: "s390x"}
	_, _, err := linkBinaryDirs([]ocispecs.Platform{foreign, host})
	if err == nil || !strings.Contains(err.Error(), "envkit-linux-s390x") || !strings.Contains(err.Error(), "GOARCH=s390x") {
		t.Errorf("no s390x envkit beside the test binary: %v, want a refusal naming the file and how to build it", err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if err := checkStatic(exe); err != nil {
		t.Skipf("the test binary cannot serve as the link binary (make unit builds it with CGO_ENABLED=0): %v", err)
	}
	dirs, remove, err := linkBinaryDirs([]ocispecs.Platform{host, host})
	if err != nil {
		t.Fatal(err)
	}
	defer remove()
	if len(dirs) != 1 {
		t.Fatalf("%d directories for one platform: %v", len(dirs), dirs)
	}
	if _, err := os.Stat(filepath.Join(dirs[frontend.LocalLinkBinaryFor(host)], "envkit")); err != nil {
		t.Fatal(err)
	}
}

func TestLinkPlatforms(t *testing.T) {
	amd64 := ocispecs.Platform{OS: "linux", Architecture: "amd64"}
	arm64 := ocispecs.Platform{OS: "linux", Architecture: "arm64"}
	names := func(ps []ocispecs.Platform) string {
		var out []string
		for _, p := range ps {
			out = append(out, frontend.LocalLinkBinaryFor(p))
		}
		return strings.Join(out, " ")
	}
	def := &spec.Definition{Platforms: []string{"linux/amd64", "linux/arm64", "linux/amd64/v3"}}
	for _, c := range []struct {
		name      string
		def       *spec.Definition
		requested []string
		builder   ocispecs.Platform
		want      string
	}{
		// The builder's first, each other target after it, once per GOARCH.
		{"definition's platforms", def, nil, amd64, "envkit-bin-linux-amd64 envkit-bin-linux-arm64"},
		{"on an arm64 builder", def, nil, arm64, "envkit-bin-linux-arm64 envkit-bin-linux-amd64"},
		{"--platform replaces them", def, []string{"linux/s390x"}, amd64, "envkit-bin-linux-amd64 envkit-bin-linux-s390x"},
		// No platforms anywhere: the builder's own, which a remote
		// builder's may differ from this host's.
		{"none: the builder's", &spec.Definition{}, nil, arm64, "envkit-bin-linux-arm64"},
		{"no definition", nil, []string{"linux/arm64"}, amd64, "envkit-bin-linux-amd64 envkit-bin-linux-arm64"},
	} {
		got, err := linkPlatforms(c.def, c.requested, c.builder)
		if err != nil || names(got) != c.want {
			t.Errorf("%s: %s, %v; want %s", c.name, names(got), err, c.want)
		}
	}
	if _, err := linkPlatforms(nil, []string{"linux/mips"}, amd64); err == nil {
		t.Error("linux/mips accepted")
	}
}
