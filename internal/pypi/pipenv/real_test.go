package pipenv

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/envkit/envkit/internal/conda/lock"
	"github.com/envkit/envkit/internal/pypi/pypitest"
	"github.com/envkit/envkit/internal/spec"
)

// hostWheels finds the real wheels CPython bundles for ensurepip (pip,
// setuptools) next to the host's python3, and that python's version.
func hostWheels(t *testing.T) (string, string, map[string][]byte) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3 on this machine")
	}
	out, err := exec.Command(python, "-c", "import sysconfig, sys; print(sysconfig.get_paths()['stdlib']); print('%d.%d.%d' % sys.version_info[:3])").Output()
	if err != nil {
		t.Fatal(err)
	}
	stdlib, version, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	paths, _ := filepath.Glob(filepath.Join(stdlib, "ensurepip", "_bundled", "*.whl"))
	if len(paths) == 0 {
		t.Skip("this python bundles no wheels")
	}
	wheels := map[string][]byte{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		wheels[filepath.Base(p)] = data
	}
	return python, version, wheels
}

// TestRealWheels locks and installs the real pip and setuptools wheels
// from an index on 127.0.0.1 (their own METADATA, RECORD and entry
// points), then runs the installed pip with the host's python: it imports,
// its console script works, and it lists itself and setuptools as
// installed.
func TestRealWheels(t *testing.T) {
	python, version, wheels := hostWheels(t)
	ix := pypitest.ServeFiles(wheels, false)
	defer ix.Server.Close()
	def := &spec.Definition{Conda: &spec.CondaEnv{Pip: []spec.Requirement{{Spec: "--index-url " + ix.URL}, {Spec: "pip"}, {Spec: "setuptools"}}}}
	conda := []lock.Package{{Name: "python", Version: version, Manager: lock.Conda, Platform: "linux-64"}}
	pkgs, _, err := Lock(context.Background(), def, "linux-64", conda)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 2 {
		t.Fatalf("%+v", pkgs)
	}
	prefix := t.TempDir()
	if err := Install(context.Background(), pkgs, "linux-64", prefix, conda, InstallOptions{Requested: map[string]bool{"pip": true}}); err != nil {
		t.Fatal(err)
	}
	// The launchers name PREFIX/bin/pythonX.Y: give them the host's.
	py := "python" + version[:strings.LastIndexByte(version, '.')]
	if err := os.Symlink(python, filepath.Join(prefix, "bin", py)); err != nil {
		t.Fatal(err)
	}
	site := filepath.Join(prefix, "lib", py, "site-packages")
	cmd := exec.Command(filepath.Join(prefix, "bin", "pip"), "list", "--path", site, "--format", "freeze")
	// PYTHONPATH puts the installed tree first: the host has its own pip.
	env := append(os.Environ(), "PIP_DISABLE_PIP_VERSION_CHECK=1", "PIP_NO_INDEX=1", "PYTHONNOUSERSITE=1", "PYTHONPATH="+site)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bin/pip list: %v\n%s", err, out)
	}
	for _, p := range pkgs {
		if !strings.Contains(string(out), p.Name+"=="+p.Version) {
			t.Errorf("pip list lacks %s==%s:\n%s", p.Name, p.Version, out)
		}
	}
	check := exec.Command(filepath.Join(prefix, "bin", py), "-c", `import importlib.util as u
for m in ("pip", "setuptools"):
    print(u.find_spec(m).origin)`)
	check.Env = env
	if out, err := check.CombinedOutput(); err != nil || strings.Count(string(out), site+"/") != 2 {
		t.Errorf("imported from elsewhere: %v\n%s", err, out)
	}
}
