package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/envkit/envkit/internal/conformance"
	"github.com/envkit/envkit/internal/gitctx/gittest"
)

const gitAzureML = "$schema: https://azuremlschemas.azureedge.net/latest/environment.schema.json\nbuild:\n  path: %s\n"

// The CLI against a repository served on 127.0.0.1: lock pins the branch
// and keeps the pin when the branch moves (until --update); hash follows
// the pin, equals the commit's URL and the same files in a local
// context; --check and convert handle the git context.
func TestGitContextCLI(t *testing.T) {
	repo := gittest.New(t)
	first := repo.Commit(map[string]string{
		"env/Dockerfile": "FROM busybox\nCOPY app.txt /app.txt\n",
		"env/app.txt":    "one\n",
		"README":         "not in the context\n",
	})
	def := func(ref string) string {
		dir := t.TempDir()
		p := filepath.Join(dir, "environment.yml")
		if err := os.WriteFile(p, []byte(strings.Replace(gitAzureML, "%s", repo.URL+"#"+ref+":env", 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	branch, exact := def("main"), def(first)
	lockFile := filepath.Join(filepath.Dir(branch), "conda-lock.yml")
	readLock := func() string {
		b, err := os.ReadFile(lockFile)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	hashOf := func(p string) string {
		t.Helper()
		code, out, errOut := cli(t, "hash", p)
		if code != 0 {
			t.Fatalf("hash %s: exit %d: %s", p, code, errOut)
		}
		return out
	}

	if code, _, errOut := cli(t, "lock", "--check", branch); code != 1 || !strings.Contains(errOut, "no lock") {
		t.Errorf("lock --check without a lock: exit %d, %s", code, errOut)
	}
	if code, _, errOut := cli(t, "lock", branch); code != 0 {
		t.Fatalf("lock: exit %d: %s", code, errOut)
	}
	pin := "git-context:" + repo.URL + "#main: " + first
	if got := readLock(); !strings.Contains(got, pin) {
		t.Fatalf("the lock does not hold %q:\n%s", pin, got)
	}

	second := repo.Commit(map[string]string{"env/app.txt": "two\n"})
	if code, _, errOut := cli(t, "lock", branch); code != 0 || !strings.Contains(errOut, "up to date") {
		t.Errorf("lock after main moved: exit %d, %s (the pin stays until --update)", code, errOut)
	}
	if code, _, errOut := cli(t, "lock", "--check", branch); code != 0 {
		t.Errorf("lock --check: exit %d, %s", code, errOut)
	}
	if b, e := hashOf(branch), hashOf(exact); b != e {
		t.Errorf("hash of the branch with its lock %s, of the locked commit %s", b, e)
	}

	// The same files in a local context hash the same: the URL does not
	// enter, the content read does.
	local := filepath.Join(t.TempDir(), "environment.yml")
	files := map[string]string{local: strings.Replace(gitAzureML, "%s", "env", 1),
		filepath.Join(filepath.Dir(local), "env", "Dockerfile"): "FROM busybox\nCOPY app.txt /app.txt\n",
		filepath.Join(filepath.Dir(local), "env", "app.txt"):    "one\n"}
	for p, content := range files {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if l, e := hashOf(local), hashOf(exact); l != e {
		t.Errorf("hash of a local context %s, of the git context with the same files %s", l, e)
	}

	if code, _, errOut := cli(t, "lock", "--update", branch); code != 0 || !strings.Contains(readLock(), "#main: "+second) {
		t.Errorf("lock --update: exit %d, %s; want main pinned to %s:\n%s", code, errOut, second, readLock())
	}
	if hashOf(branch) == hashOf(exact) {
		t.Error("after lock --update the branch still hashes as the first commit")
	}

	// convert keeps the URL wherever it writes, and reads the result back.
	out := filepath.Join(t.TempDir(), "sub", "native.yml")
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := cli(t, "convert", exact, "--to", "native", "-o", out); code != 0 {
		t.Fatalf("convert --to native: exit %d: %s", code, errOut)
	}
	back, err := os.ReadFile(out)
	if err != nil || !strings.Contains(string(back), "context: "+repo.URL+"#"+first+":env") {
		t.Fatalf("convert wrote %q (%v)", back, err)
	}
	if c, e := hashOf(out), hashOf(exact); c != e {
		t.Errorf("converted to native: hash %s, want %s", c, e)
	}
	if code, azure, errOut := cli(t, "convert", out, "--to", "azureml"); code != 0 || !strings.Contains(azure, "path: "+repo.URL+"#"+first+":env") {
		t.Errorf("convert back --to azureml: exit %d: %s%s", code, azure, errOut)
	}
}

// A definition with a conda part and a git context: the lock holds both,
// and updating packages by name keeps the commit.
func TestGitContextLockWithConda(t *testing.T) {
	isolate(t)
	repo := gittest.New(t)
	first := repo.Commit(map[string]string{"env/app.txt": "one\n"})
	dir := t.TempDir()
	file := filepath.Join(dir, "environment.yml")
	def := "base:\n  image: docker.io/library/debian:bookworm-slim\n  context: " + repo.URL + "#main:env\nsteps:\n  - COPY app.txt /app.txt\n" +
		"conda:\n  channels:\n    - file://" + conformance.Dir(t, "channels", "test-recipes") + "\n  dependencies:\n    - dependent\n"
	if err := os.WriteFile(file, []byte(def), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "conda-lock.yml")
	l := lockFile(t, path, file)
	key := "git-context:" + repo.URL + "#main"
	if versionsOf(l) != "dependency=2.0 dependent=2.0" || l.Metadata.Custom[key] != first {
		t.Fatalf("lock: %s, custom %v", versionsOf(l), l.Metadata.Custom)
	}
	second := repo.Commit(map[string]string{"env/app.txt": "two\n"})
	if l = lockFile(t, path, file, "--update", "dependent"); l.Metadata.Custom[key] != first {
		t.Errorf("--update PKG moved the git pin: %v", l.Metadata.Custom)
	}
	if l = lockFile(t, path, file, "--update"); l.Metadata.Custom[key] != second || versionsOf(l) != "dependency=2.0 dependent=2.0" {
		t.Errorf("--update: %s, custom %v", versionsOf(l), l.Metadata.Custom)
	}
}
