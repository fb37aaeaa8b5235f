package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/envkit/envkit/internal/registry/registrytest"
)

// runCmd runs the CLI as run does, capturing stdout and stderr.
func runCmd(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errOut)
	err := root.Execute()
	var silent *exitError
	var ue *usageError
	switch {
	case err == nil:
	case errors.As(err, &silent):
		code = silent.code
	case errors.As(err, &ue):
		errOut.WriteString(err.Error() + "\n")
		code = 2
	default:
		errOut.WriteString(err.Error() + "\n")
		code = 1
	}
	return out.String(), errOut.String(), code
}

// dockerConfig points DOCKER_CONFIG at a config holding user:password for
// host (no credentials when user is "").
func dockerConfig(t *testing.T, host, user, password string) {
	t.Helper()
	dir := t.TempDir()
	auths := map[string]any{}
	if user != "" {
		auths[host] = map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(user + ":" + password))}
	}
	data, err := json.Marshal(map[string]any{"auths": auths})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", dir)
}

// copyFile copies a repository file into dir under name.
func copyFile(t *testing.T, src, dir, name string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := runCmd(t, args...)
	if code != 0 {
		t.Fatalf("envkit %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

func TestPushListPullRoundTrip(t *testing.T) {
	host := registrytest.Start(t, "ci", "pa55")
	dockerConfig(t, host, "ci", "pa55")
	repo := host + "/envs"

	// The Azure ML example: a definition, the conda file it references and
	// a lock beside them.
	src := t.TempDir()
	copyFile(t, "../../examples/azureml/environment.yml", src, "environment.yml")
	copyFile(t, "../../examples/azureml/conda.yml", src, "conda.yml")
	copyFile(t, "../../internal/conda/lock/testdata/mamba-good_multiple_categories-lock.yaml", src, "conda-lock.yml")

	out := mustRun(t, "push", filepath.Join(src, "environment.yml"), repo)
	if !strings.HasPrefix(out, "pushed "+repo+"/azureml-example:1 (sha256:") {
		t.Fatalf("push: %q", out)
	}
	out = mustRun(t, "list", repo)
	if !strings.Contains(out, "azureml-example  1 ") {
		t.Fatalf("list: %q", out)
	}

	dst := t.TempDir()
	mustRun(t, "pull", repo+"/azureml-example:1", "-o", dst)
	for _, name := range []string{"environment.yml", "conda.yml", "conda-lock.yml"} {
		want, _ := os.ReadFile(filepath.Join(src, name))
		got, err := os.ReadFile(filepath.Join(dst, name))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("pulled %s differs from the pushed file (%v)", name, err)
		}
	}

	// The minimal example is the same environment in envkit's own format:
	// pushed under the same name it is no new version.
	out = mustRun(t, "push", "--name", "azureml-example", "../../examples/minimal/environment.yml", repo)
	if !strings.HasPrefix(out, "unchanged: "+repo+"/azureml-example:1 already holds sha256:") {
		t.Fatalf("push of an equal definition: %q", out)
	}

	// A changed definition gets the next version, and diff shows the change.
	conda, _ := os.ReadFile(filepath.Join(src, "conda.yml"))
	if err := os.WriteFile(filepath.Join(src, "conda.yml"), bytes.Replace(conda, []byte("requests=2.32"), []byte("requests=2.31\n  - numpy"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	out = mustRun(t, "push", "--json", filepath.Join(src, "environment.yml"), repo)
	var pushed struct {
		Version int  `json:"version"`
		Created bool `json:"created"`
	}
	if err := json.Unmarshal([]byte(out), &pushed); err != nil || pushed.Version != 2 || !pushed.Created {
		t.Fatalf("push of a changed definition: %q", out)
	}
	out = mustRun(t, "versions", repo+"/azureml-example")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[2], "2 (latest)") {
		t.Fatalf("versions: %q", out)
	}

	out = mustRun(t, "diff", repo+"/azureml-example:1", repo+"/azureml-example:2")
	for _, want := range []string{"(changed)", "~ requests: requests=2.32 -> requests=2.31", "+ numpy: numpy"} {
		if !strings.Contains(out, want) {
			t.Errorf("diff of versions 1 and 2 lacks %q:\n%s", want, out)
		}
	}
	// A file against a registered version: the unchanged example is
	// version 1 in another format.
	out = mustRun(t, "diff", "../../examples/minimal/environment.yml", repo+"/azureml-example:1")
	if !strings.Contains(out, "(unchanged)") || strings.Contains(out, "conda packages:") {
		t.Errorf("diff of the minimal example and version 1:\n%s", out)
	}
}

func TestRegistryBadInput(t *testing.T) {
	host := registrytest.Start(t, "ci", "pa55")
	repo := host + "/envs"
	dockerConfig(t, host, "ci", "pa55")
	mustRun(t, "push", "../../examples/minimal/environment.yml", repo)

	reqs := filepath.Join(t.TempDir(), "requirements.txt")
	if err := os.WriteFile(reqs, []byte("requests==2.31.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// An image where an environment is expected.
	registrytest.PushImage(t, host, "envs/image", "1", nil, registrytest.Layer{Files: map[string]string{"a": "b"}})

	cases := []struct {
		name string
		args []string
		want string
	}{
		{"missing repository", []string{"pull", repo + "/nothing:1"}, "not found"},
		{"missing versions", []string{"versions", repo + "/nothing"}, "no such repository"},
		{"nothing listed", []string{"list", host + "/other"}, "no envkit environments"},
		{"missing version", []string{"pull", repo + "/minimal:7"}, "not found"},
		{"bad version", []string{"pull", repo + "/minimal:v1"}, "not a positive integer"},
		{"no name", []string{"push", reqs, repo}, "the definition has no name: give one with --name"},
		{"bad name", []string{"push", "--name", "Not OK", "../../examples/minimal/environment.yml", repo}, "cannot name a repository"},
		{"not an environment", []string{"pull", repo + "/image:1"}, "is not an envkit environment (config media type application/vnd.oci.image.config.v1+json"},
		{"versions of an image", []string{"versions", repo + "/image"}, "is not an envkit environment"},
		{"diff with an image", []string{"diff", "../../examples/minimal/environment.yml", repo + "/image:1"}, "is not an envkit environment"},
		{"overwrite", []string{"push", "--name", "minimal", "--version", "1", "../../internal/spec/testdata/full.yml", repo}, "already holds a different definition"},
	}
	for _, c := range cases {
		out, errOut, code := runCmd(t, c.args...)
		if code != 1 || !strings.Contains(errOut, c.want) {
			t.Errorf("%s: exit %d, stderr %q, stdout %q; want exit 1 and %q", c.name, code, errOut, out, c.want)
		}
	}

	dockerConfig(t, host, "ci", "wrong")
	for _, args := range [][]string{
		{"push", "../../examples/minimal/environment.yml", repo},
		{"pull", repo + "/minimal"},
		{"list", repo},
		{"versions", repo + "/minimal"},
	} {
		_, errOut, code := runCmd(t, args...)
		if code != 1 || !strings.Contains(errOut, "authentication failed") {
			t.Errorf("%s with wrong credentials: exit %d, %q", args[0], code, errOut)
		}
	}
}

func TestPullKeepsOtherFiles(t *testing.T) {
	host := registrytest.Start(t, "", "")
	dockerConfig(t, host, "", "")
	repo := host + "/envs"
	mustRun(t, "push", "../../examples/azureml/environment.yml", repo)
	dst := t.TempDir()
	if err := os.WriteFile(filepath.Join(dst, "conda.yml"), []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := runCmd(t, "pull", repo+"/azureml-example", "-o", dst)
	if code != 1 || !strings.Contains(errOut, "exists with other content") {
		t.Fatalf("pull over a changed file: exit %d, %q", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dst, "environment.yml")); err == nil {
		t.Fatal("a failed pull wrote environment.yml")
	}
	mustRun(t, "pull", "--force", repo+"/azureml-example", "-o", dst)
	if got, _ := os.ReadFile(filepath.Join(dst, "conda.yml")); bytes.Equal(got, []byte("mine\n")) {
		t.Fatal("--force kept the old conda.yml")
	}
}

// A Dockerfile build context travels with the definition: the Dockerfile
// and the files its COPY reads come back at their paths, and the pulled
// definition hashes as the pushed one.
func TestPushDockerContextRoundTrip(t *testing.T) {
	host := registrytest.Start(t, "", "")
	dockerConfig(t, host, "", "")
	src := t.TempDir()
	for name, body := range map[string]string{
		"env.yml":                  "name: ctx-env\nbuild:\n  path: context\n  dockerfile_path: Dockerfile\n",
		"context/Dockerfile":       "FROM docker.io/library/debian:bookworm-slim\nCOPY scripts/setup.sh /setup.sh\nRUN sh /setup.sh\n",
		"context/scripts/setup.sh": "echo set up\n",
		"context/unused.txt":       "not referenced: not pushed\n",
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(src, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mustRun(t, "push", filepath.Join(src, "env.yml"), host+"/envs")
	dst := t.TempDir()
	out := mustRun(t, "pull", host+"/envs/ctx-env", "-o", dst)
	for _, name := range []string{"env.yml", "context/Dockerfile", "context/scripts/setup.sh"} {
		want, _ := os.ReadFile(filepath.Join(src, name))
		if got, err := os.ReadFile(filepath.Join(dst, name)); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: not pulled as pushed (%v)\n%s", name, err, out)
		}
	}
	if _, err := os.Stat(filepath.Join(dst, "context/unused.txt")); err == nil {
		t.Error("a file the definition does not reference was pushed")
	}
	if a, b := mustRun(t, "hash", filepath.Join(src, "env.yml")), mustRun(t, "hash", filepath.Join(dst, "env.yml")); a != b {
		t.Errorf("pulled definition hashes %s, pushed %s", b, a)
	}
}
