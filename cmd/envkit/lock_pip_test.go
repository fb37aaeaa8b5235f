package main

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/envkit/envkit/internal/conda/lock"
	"github.com/envkit/envkit/internal/conformance"
	"github.com/envkit/envkit/internal/platform"
	"github.com/envkit/envkit/internal/pypi/pypitest"
)

var pipDists = []pypitest.Dist{
	{Name: "greet", Version: "1.0", Requires: []string{"colour-util>=2"}, EntryPoints: "[console_scripts]\ngreet = greet:main\n"},
	{Name: "colour_util", Version: "2.1"},
	{Name: "colour_util", Version: "1.0"},
}

// pipEnv writes a definition whose conda part is test-recipes' fake
// python 3.99.99 and whose pip part starts with --index-url at ix.
func pipEnv(t *testing.T, dir string, ix *pypitest.Index, pip ...string) string {
	t.Helper()
	deps := "  - python\n  - pip:\n    - --index-url " + ix.URL + "\n"
	for _, p := range pip {
		deps += "    - " + p + "\n"
	}
	return writeEnv(t, dir, deps)
}

// TestLockAndCreateWithPip: envkit lock writes pip entries (url, sha256)
// after the conda ones, envkit create --lock installs them into the
// prefix, and a wheel whose bytes no longer match the lock fails the
// creation with nothing left at the prefix.
func TestLockAndCreateWithPip(t *testing.T) {
	isolate(t)
	t.Setenv("ENVKIT_PKGS_DIR", t.TempDir())
	ix := pypitest.Serve(pipDists, true)
	defer ix.Server.Close()
	dir := t.TempDir()
	env := pipEnv(t, dir, ix, "greet")
	lk := filepath.Join(dir, "conda-lock.yml")
	l := lockFile(t, lk, env)
	for _, p := range l.ForPlatform("linux-64") {
		if p.Manager == lock.Pip {
			file := filepath.Base(p.URL)
			if p.Hash.SHA256 != ix.SHA256(file) || !strings.HasPrefix(p.URL, ix.Server.URL+"/") {
				t.Errorf("%s: url %s sha256 %s, want the served file's", p.Name, p.URL, p.Hash.SHA256)
			}
		}
	}
	if got, want := managedVersionsOf(l), "conda:python=3.99.99 pip:colour-util=2.1 pip:greet=1.0"; got != want {
		t.Errorf("locked %s, want %s", got, want)
	}

	// The pip lines are part of the content hash: a lock is current until
	// they change.
	if _, errOut, code := runSolveCLI(t, "lock", env); code != 0 || !strings.Contains(errOut, "up to date") {
		t.Errorf("relock of an unchanged definition: exit %d: %s", code, errOut)
	}

	prefix := filepath.Join(t.TempDir(), "env")
	if code, errOut := runCaptured(t, "create", "--prefix", prefix, "--lock", lk); code != 0 {
		t.Fatalf("create: exit %d: %s", code, errOut)
	}
	sites, _ := filepath.Glob(filepath.Join(prefix, "lib/python3.99*/site-packages"))
	if len(sites) != 1 {
		t.Fatalf("site-packages: %v", sites)
	}
	for _, f := range []string{"greet/__init__.py", "greet-1.0.dist-info/RECORD", "greet-1.0.dist-info/INSTALLER", "colour_util/__init__.py"} {
		if _, err := os.Stat(filepath.Join(sites[0], f)); err != nil {
			t.Error(err)
		}
	}
	if b, err := os.ReadFile(filepath.Join(prefix, "bin/greet")); err != nil || !strings.Contains(string(b), "from greet import main") {
		t.Errorf("console script: %q %v", b, err)
	}

	// Changing the pip lines stales the lock; the pip part is solved again.
	env = pipEnv(t, dir, ix, "colour-util<2")
	if got, want := managedVersionsOf(lockFile(t, lk, env)), "conda:python=3.99.99 pip:colour-util=1.0"; got != want {
		t.Errorf("relocked %s, want %s", got, want)
	}

	// A wheel that no longer matches its sha256 stops create before the
	// conda packages are written (fresh wheel cache: the pkgs cache is it).
	t.Setenv("ENVKIT_PKGS_DIR", t.TempDir())
	ix.Corrupt = map[string]bool{"colour_util-1.0-py3-none-any.whl": true}
	bad := filepath.Join(t.TempDir(), "env")
	code, errOut := runCaptured(t, "create", "--prefix", bad, "--lock", lk)
	if code != 1 || !strings.Contains(errOut, "pip package colour-util 1.0") || !strings.Contains(errOut, "sha256") {
		t.Errorf("corrupt wheel: exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(bad); !os.IsNotExist(err) {
		t.Errorf("%s left behind (%v)", bad, err)
	}
}

// TestLockTopLevelPipAndSpark: a native definition's top-level pip list
// is locked after the conda file's pip part and is part of the content
// hash; precached Spark packages are pinned in custom_metadata.
func TestLockTopLevelPipAndSpark(t *testing.T) {
	isolate(t)
	ix := pypitest.Serve(pipDists, true)
	defer ix.Server.Close()
	jar := "PK fake jar"
	sum := sha1.Sum([]byte(jar))
	files := map[string]string{
		"org/demo/util/1.0/util-1.0.pom": `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>org.demo</groupId><artifactId>util</artifactId><version>1.0</version></project>`,
		"org/demo/util/1.0/util-1.0.jar":      jar,
		"org/demo/util/1.0/util-1.0.jar.sha1": hex.EncodeToString(sum[:]) + "\n",
	}
	mavenRepo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, ok := files[strings.TrimPrefix(r.URL.Path, "/maven2/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, data)
	}))
	defer mavenRepo.Close()

	dir := t.TempDir()
	env := filepath.Join(dir, "envkit.yml")
	write := func(topLevel string) {
		t.Helper()
		body := fmt.Sprintf(`# syntax=docker.io/envkit/frontend:1
name: t
conda:
  channels: [file://%s]
  dependencies:
    - python
    - pip:
      - --index-url %s
      - colour-util<2
pip:
  - %s
spark:
  repositories: [%s/maven2]
  packages:
    - {group: org.demo, artifact: util, version: "1.0"}
  precache: true
`, conformance.Dir(t, "channels", "test-recipes"), ix.URL, topLevel, mavenRepo.URL)
		if err := os.WriteFile(env, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("colour-util>=1")
	lk := filepath.Join(dir, "conda-lock.yml")
	l := lockFile(t, lk, env)
	want := mavenRepo.URL + "/maven2/org/demo/util/1.0/util-1.0.jar#sha256="
	if got := l.Metadata.Custom["spark-jar:org.demo:util:1.0"]; !strings.HasPrefix(got, want) {
		t.Errorf("spark jar pin %q, want %s…", got, want)
	}

	if got, want := managedVersionsOf(l), "conda:python=3.99.99 pip:colour-util=1.0"; got != want {
		t.Errorf("locked %s, want %s", got, want)
	}

	// greet (top level) needs colour-util>=2, which the conda file's pip
	// part forbids: the changed list is resolved with the other, fails,
	// and the lock stays as it was.
	before, _ := os.ReadFile(lk)
	write("greet")
	_, errOut, code := runSolveCLI(t, "lock", env)
	if code != 1 || !strings.Contains(errOut, "colour-util") {
		t.Errorf("conflicting pip lists: exit %d: %s", code, errOut)
	}
	if after, _ := os.ReadFile(lk); string(after) != string(before) {
		t.Error("a failed lock rewrote the lock file")
	}
}

// An index out of reach fails the lock naming the index and how to use a
// mirror instead; PIP_INDEX_URL names the index when the lines do not.
func TestLockPipIndexOutOfReach(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	t.Setenv("PIP_INDEX_URL", "http://127.0.0.1:1/simple")
	env := writeEnv(t, dir, "  - python\n  - pip:\n    - greet\n")
	_, errOut, code := runSolveCLI(t, "lock", env)
	if code != 1 || !strings.Contains(errOut, "http://127.0.0.1:1/simple/greet/") || !strings.Contains(errOut, "PIP_INDEX_URL") {
		t.Errorf("exit %d, stderr %q: want 1, the index from PIP_INDEX_URL and the mirror hint", code, errOut)
	}
}

// A definition's platforms are locked as the frontend builds them (its
// TestBuildEveryPlatform): every platform of the platform table, with pip
// resolved for each (its markers and wheel tags know the platform's
// machine).
func TestLockEveryDefinitionPlatform(t *testing.T) {
	isolate(t)
	ix := pypitest.Serve(pipDists, true)
	defer ix.Server.Close()
	dir := t.TempDir()
	env := filepath.Join(dir, "environment.yml")
	native := func(platforms string) []byte {
		return []byte("name: t\nplatforms: [" + platforms + "]\nconda:\n  channels:\n    - file://" + conformance.Dir(t, "channels", "test-recipes") +
			"\n  dependencies:\n    - python\n    - pip:\n      - --index-url " + ix.URL + "\n      - greet\n")
	}
	var ids, want []string
	for _, p := range platform.All() {
		ids, want = append(ids, p.String()), append(want, p.Subdir)
	}
	if err := os.WriteFile(env, native(strings.Join(ids, ", ")), 0o644); err != nil {
		t.Fatal(err)
	}
	l := lockFile(t, filepath.Join(dir, "conda-lock.yml"), env)
	if got := strings.Join(l.Metadata.Platforms, " "); got != strings.Join(want, " ") {
		t.Errorf("locked platforms %s, want %s", got, strings.Join(want, " "))
	}
	for _, subdir := range want {
		pip := 0
		for _, p := range l.ForPlatform(subdir) {
			if p.Manager == lock.Pip {
				pip++
			}
		}
		if pip != 2 {
			t.Errorf("%s: %d pip packages, want greet and colour-util", subdir, pip)
		}
	}
	// A platform conda has no subdir for is refused at lock time, with
	// the platforms envkit builds.
	if err := os.WriteFile(env, native("linux/arm/v5"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := runSolveCLI(t, "lock", env); code != 1 || !strings.Contains(errOut, "linux/arm/v5 has no conda subdir: envkit builds linux/amd64, linux/arm64") {
		t.Errorf("arm/v5: exit %d: %s", code, errOut)
	}
}
