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

// A saved Azure ML v1 environment's docker.platform is checked where it
// is read, as a native platforms: entry (found by FuzzParse: os "0",
// architecture "0" passed validate and a native file written from it
// did not read back).
func TestV1PlatformCheckedAtItsLine(t *testing.T) {
	for text, want := range map[string]string{
		"{\"docker\": {\n  \"baseImage\": \"debian:12\",\n  \"platform\": {\"os\": \"Windows\", \"architecture\": \"amd64\"}}}": "azureml_environment.json:3:15: docker.platform: platform windows/amd64 has no conda subdir",
		"{\"docker\": {\n  \"baseImage\": \"debian:12\",\n  \"platform\": {\"os\": \"0\", \"architecture\": \"0\"}}}":           "azureml_environment.json:3:15: docker.platform: platform 0/0 has no conda subdir",
	} {
		if _, err := Parse("azureml_environment.json", []byte(text), fstest.MapFS{}); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", text, err, want)
		}
	}
	def, err := Parse("azureml_environment.json", []byte(`{"docker": {"baseImage": "debian:12", "platform": {"os": "Linux", "architecture": "arm64"}}}`), fstest.MapFS{})
	if err != nil || len(def.Platforms) != 1 || def.Platforms[0] != "linux/arm64" {
		t.Errorf("linux/arm64: %v %v", def, err)
	}
}
