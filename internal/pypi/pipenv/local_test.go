package pipenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/envkit/envkit/internal/conda/lock"
	"github.com/envkit/envkit/internal/pypi/pypitest"
	"github.com/envkit/envkit/internal/spec"
)

// TestLocalWheelAndConstraints: a definition on the host with a -c file
// and a wheel file beside it locks (the wheel by its path from the
// definition, its dependency from the index as the constraint allows),
// the lock reads back, and the wheels install from the lock's directory.
func TestLocalWheelAndConstraints(t *testing.T) {
	ix := pypitest.Serve(dists, true)
	defer ix.Server.Close()
	local := pypitest.Dist{Name: "my-model", Version: "0.3", Requires: []string{"colour-util"}}
	dir := t.TempDir()
	for name, data := range map[string][]byte{
		"environment.yml":            []byte(fmt.Sprintf("channels: [conda-forge]\ndependencies:\n  - python=3.11\n  - pip:\n    - --index-url %s\n    - -c pins/constraints.txt\n    - ./wheels/%s\n", ix.URL, local.Filename())),
		"pins/constraints.txt":       []byte("colour-util<2\n"),
		"wheels/" + local.Filename(): local.Build(),
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	def, err := spec.Load(filepath.Join(dir, "environment.yml"))
	if err != nil {
		t.Fatal(err)
	}
	pkgs, _, err := Lock(context.Background(), def, "linux-64", condaLock)
	if err != nil {
		t.Fatal(err)
	}
	l := &lock.Lock{Metadata: lock.Metadata{Platforms: []string{"linux-64"}, ContentHash: map[string]string{"linux-64": "x"}}, Packages: pkgs}
	data, err := l.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"name: my-model", "url: wheels/my_model-0.3-py3-none-any.whl", "name: colour-util", "version: '1.0'"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("lock lacks %q:\n%s", want, data)
		}
	}
	if strings.Contains(string(data), dir) {
		t.Errorf("the lock holds the host path %s:\n%s", dir, data)
	}
	back, err := lock.Read("conda-lock.yml", data)
	if err != nil {
		t.Fatal(err)
	}
	prefix := filepath.Join(t.TempDir(), "env")
	if err := Install(context.Background(), back.Packages, "linux-64", prefix, condaLock, InstallOptions{Dir: dir, CacheDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"my_model/__init__.py", "colour_util/__init__.py"} {
		if _, err := os.Stat(filepath.Join(prefix, "lib", "python3.11", "site-packages", f)); err != nil {
			t.Error(err)
		}
	}
	// A wheel changed after the lock is refused, naming it.
	if err := os.WriteFile(filepath.Join(dir, "wheels", local.Filename()), []byte("changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = Install(context.Background(), back.Packages, "linux-64", filepath.Join(t.TempDir(), "env"), condaLock, InstallOptions{Dir: dir, CacheDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "pip package my-model 0.3") || !strings.Contains(err.Error(), "sha256") {
		t.Errorf("changed wheel: %v", err)
	}
}
