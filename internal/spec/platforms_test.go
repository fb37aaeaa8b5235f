package spec

import (
	"strings"
	"testing"
	"testing/fstest"
)

// A platform the lock and the build cannot take fails validate at its
// line, with the platforms envkit builds.
func TestPlatformsCheckedAtTheirLine(t *testing.T) {
	_, err := Parse("env.yml", []byte("base:\n  image: debian\nplatforms:\n  - linux/arm64\n  - linux-64\n  - windows/amd64\n"), fstest.MapFS{})
	if err == nil {
		t.Fatal("accepted linux-64 and windows/amd64")
	}
	for _, want := range []string{`env.yml:5:5: platform "linux-64": want os/arch[/variant], one of linux/amd64`, "env.yml:6:5: platform windows/amd64 has no conda subdir: envkit builds linux/amd64"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "linux/arm64 has") || strings.Contains(err.Error(), ":4:") {
		t.Errorf("linux/arm64 refused: %v", err)
	}
}
