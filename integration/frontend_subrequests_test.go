//go:build integration

package integration

import (
	"errors"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/envkit/envkit/internal/buildplan"
)

// TestSubrequestsThroughSyntax: buildx's --call reaches envkit's frontend
// through the definition's # syntax= line, with BuildKit's own subrequest
// protocol: lint prints envkit's finding at its line of the file, outline
// lists envkit's build arguments.
func TestSubrequestsThroughSyntax(t *testing.T) {
	// Line 1 is the # syntax= line: envkit-hello, unpinned, is on line 10.
	dir := syntaxContext(t, helloDefinition(env.channel))
	builder := "envkit-sub-" + filepath.Base(t.TempDir())
	run(t, time.Minute, "docker-buildx", "create", "--name", builder, "--driver", "remote", env.BuildkitHost)
	t.Cleanup(func() { runErr(time.Minute, nil, "docker-buildx", "rm", builder) })
	call := func(dir, method string) (stdout string, err error) {
		t.Helper()
		args := []string{"build", "--builder", builder, "--progress", "plain", "--call", method,
			"-f", filepath.Join(dir, "environment.yml"), dir}
		stdout, stderr, err := runErr(5*time.Minute, nil, "docker-buildx", args...)
		if err != nil && !errors.As(err, new(*exec.ExitError)) {
			t.Fatalf("docker-buildx %s: %v\n%s", strings.Join(args, " "), err, tail(stderr, 20))
		}
		return stdout, err
	}

	// buildx exits 1 when lint finds something, and prints the finding with
	// the source lines around it.
	out, err := call(dir, "lint")
	if err == nil {
		t.Errorf("--call lint: exit 0 despite a finding")
	}
	for _, want := range []string{"WARNING: unpinned-conda-dependency", "conda dependency envkit-hello has no version",
		filepath.Join(dir, "environment.yml") + ":10\n", ">>>     - envkit-hello"} {
		if !strings.Contains(out, want) {
			t.Errorf("--call lint: no %q in\n%s", want, out)
		}
	}
	pinned := syntaxContext(t, strings.Replace(helloDefinition(env.channel), "- envkit-hello\n", "- envkit-hello=1.0\n", 1))
	if out, err := call(pinned, "lint"); err != nil || strings.Contains(out, "WARNING") {
		t.Errorf("--call lint on a pinned definition: %v\n%s", err, out)
	}

	out, err = call(dir, "outline")
	if err != nil {
		t.Fatalf("--call outline: %v\n%s", err, out)
	}
	if !strings.Contains(out, "TARGET: hello") || !regexp.MustCompile(`ENVKIT_BASE_IMAGE\s+docker.io/library/debian:bookworm-slim`).MatchString(out) {
		t.Errorf("--call outline: no target or base image in\n%s", out)
	}
	for _, a := range buildplan.Args {
		if !strings.Contains(out, a.Name) {
			t.Errorf("--call outline: no %s in\n%s", a.Name, out)
		}
	}
}
