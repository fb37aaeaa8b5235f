package pipenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/envkit/envkit/internal/conda/lock"
	"github.com/envkit/envkit/internal/pypi/pypitest"
	"github.com/envkit/envkit/internal/spec"
)

var dists = []pypitest.Dist{
	{Name: "greet", Version: "1.0", Requires: []string{"colour-util>=2", "numpy"}, EntryPoints: "[console_scripts]\ngreet = greet:main\n",
		Files: map[string]string{"greet/__main__.py": "print('hi')\n"}},
	{Name: "colour_util", Version: "2.1"},
	{Name: "colour_util", Version: "1.0"},
	{Name: "numpy", Version: "2.0.0", Tag: "cp311-cp311-manylinux_2_17_x86_64"},
}

// condaLock stands for what the conda part of `envkit lock` produced.
var condaLock = []lock.Package{
	{Name: "python", Version: "3.11.7", Manager: lock.Conda, Platform: "linux-64"},
	{Name: "numpy", Version: "1.26.4", Manager: lock.Conda, Platform: "linux-64"},
}

func definition(t *testing.T, indexURL string) *spec.Definition {
	yml := fmt.Sprintf(`name: demo
channels: [conda-forge]
dependencies:
  - python=3.11
  - numpy
  - pip
  - pip:
    - --index-url %s
    - greet
`, indexURL)
	def, err := spec.Parse("environment.yml", []byte(yml), fstest.MapFS{})
	if err != nil {
		t.Fatal(err)
	}
	return def
}

// TestLockAndInstall: the definition's pip part, starting with
// --index-url at 127.0.0.1, locks to pip entries with url and sha256
// (numpy left to conda), the lock file round-trips, and the wheels install
// into a prefix from a cold cache, then from the cache.
func TestLockAndInstall(t *testing.T) {
	ix := pypitest.Serve(dists, true)
	defer ix.Server.Close()
	pkgs, res, err := Lock(context.Background(), definition(t, ix.URL), "linux-64", condaLock)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Overlap) != 1 || res.Overlap[0].Name != "numpy" {
		t.Errorf("overlap: %+v", res.Overlap)
	}
	l := &lock.Lock{Metadata: lock.Metadata{Platforms: []string{"linux-64"}, ContentHash: map[string]string{"linux-64": "x"}},
		Packages: append(append([]lock.Package{}, condaLock...), pkgs...)}
	for i := range l.Packages[:2] {
		l.Packages[i].URL = "https://conda.anaconda.org/conda-forge/linux-64/" + l.Packages[i].Name + ".conda"
		l.Packages[i].Hash = lock.Hash{MD5: strings.Repeat("0", 32), SHA256: strings.Repeat("0", 64)}
	}
	data, err := l.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"name: greet", "manager: pip", "url: " + ix.Server.URL + "/files/greet-1.0-py3-none-any.whl",
		"sha256: " + ix.SHA256("greet-1.0-py3-none-any.whl"), "name: colour-util", "version: '2.1'"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("lock lacks %q:\n%s", want, data)
		}
	}
	back, err := lock.Read("conda-lock.yml", data)
	if err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	for round := range 2 {
		prefix := t.TempDir()
		before := ix.Requests.Load()
		if err := Install(context.Background(), back.Packages, "linux-64", prefix, back.Packages, InstallOptions{CacheDir: cache}); err != nil {
			t.Fatal(err)
		}
		if got := ix.Requests.Load() - before; round == 0 && got != 2 || round == 1 && got != 0 {
			t.Errorf("round %d: %d downloads", round, got)
		}
		for _, f := range []string{"bin/greet", "lib/python3.11/site-packages/greet/__main__.py",
			"lib/python3.11/site-packages/colour_util-2.1.dist-info/RECORD", "lib/python3.11/site-packages/greet-1.0.dist-info/INSTALLER"} {
			if _, err := os.Stat(filepath.Join(prefix, f)); err != nil {
				t.Errorf("round %d: %v", round, err)
			}
		}
		if python, err := exec.LookPath("python3"); err == nil {
			cmd := exec.Command(python, "-c", "import greet, colour_util; print(greet.__version__, colour_util.__version__)")
			cmd.Env = append(os.Environ(), "PYTHONPATH="+filepath.Join(prefix, "lib/python3.11/site-packages"))
			if out, err := cmd.CombinedOutput(); err != nil || string(out) != "1.0 2.1\n" {
				t.Errorf("import: %s %v", out, err)
			}
		}
	}
}

// TestMismatchInstallsNothing: a wheel whose bytes do not match the lock
// is refused and nothing is written, with a cold cache and with a corrupt
// cache entry.
func TestMismatchInstallsNothing(t *testing.T) {
	ix := pypitest.Serve(dists, false)
	defer ix.Server.Close()
	pkgs, _, err := Lock(context.Background(), definition(t, ix.URL), "linux-64", condaLock)
	if err != nil {
		t.Fatal(err)
	}
	ix.Corrupt["greet-1.0-py3-none-any.whl"] = true
	for _, name := range []string{"cold cache", "corrupt cache entry"} {
		cache := t.TempDir()
		if name == "corrupt cache entry" {
			for _, p := range pkgs {
				os.WriteFile(filepath.Join(cache, p.Hash.SHA256+".whl"), []byte("junk"), 0o644)
			}
		}
		parent := t.TempDir()
		prefix := filepath.Join(parent, "env")
		// colour-util, which sorts first and is intact, is not installed
		// either: every wheel is checked before any is written.
		err := Install(context.Background(), pkgs, "linux-64", prefix, condaLock, InstallOptions{CacheDir: cache})
		if err == nil || !strings.Contains(err.Error(), "sha256") || !strings.Contains(err.Error(), "greet") {
			t.Errorf("%s: %v", name, err)
		}
		if entries, _ := os.ReadDir(parent); len(entries) != 0 {
			t.Errorf("%s: left %v", name, entries)
		}
		if err := Prefetch(context.Background(), pkgs, "linux-64", InstallOptions{CacheDir: cache}); err == nil || !strings.Contains(err.Error(), "sha256") {
			t.Errorf("%s: Prefetch: %v", name, err)
		}
	}
}

func TestNoPythonInTheLock(t *testing.T) {
	ix := pypitest.Serve(dists, true)
	defer ix.Server.Close()
	_, _, err := Lock(context.Background(), definition(t, ix.URL), "linux-64", condaLock[1:])
	if err == nil || !strings.Contains(err.Error(), "no python") {
		t.Errorf("%v", err)
	}
}
