//go:build integration

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/envkit/envkit/hack/services"
)

// run runs one of ./bin's tools with a bounded time and returns stdout;
// the test fails with stderr when it fails.
func run(t *testing.T, timeout time.Duration, tool string, args ...string) string {
	t.Helper()
	out, errOut, err := runErr(timeout, nil, tool, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", tool, strings.Join(args, " "), err, tail(errOut, 40))
	}
	return out
}

func runErr(timeout time.Duration, extraEnv []string, tool string, args ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(env.bin, tool), args...)
	cmd.Env = append(os.Environ(), extraEnv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		err = ctx.Err()
	}
	return stdout.String(), stderr.String(), err
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// runIn runs script in image (services.RunIn) and returns $OUT/result.
func runIn(t *testing.T, image, script string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := services.RunIn(ctx, env.BuildkitHost, image, script)
	if err != nil {
		t.Fatalf("running in %s: %v", image, err)
	}
	return out
}

// metadataDigest reads containerimage.digest from a --metadata-file.
func metadataDigest(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	d, _ := m["containerimage.digest"].(string)
	if d == "" {
		t.Fatalf("%s: no containerimage.digest in %s", path, b)
	}
	return d
}

// writeFiles lays out files (path → content) in a new directory.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// execIn is a command run in dir (relative to the integration directory).
func execIn(ctx context.Context, dir, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	return cmd
}

// offlineExample is examples/offline/environment.yml with its channel,
// envkit-fixtures, replaced by channel (a URL).
func offlineExample(t *testing.T, channel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "examples", "offline", "environment.yml"))
	if err != nil {
		t.Fatal(err)
	}
	const line = "    - envkit-fixtures\n"
	if !strings.Contains(string(b), line) {
		t.Fatalf("examples/offline/environment.yml no longer lists the channel %q", strings.TrimSpace(line))
	}
	return strings.Replace(string(b), line, "    - "+channel+"\n", 1)
}
