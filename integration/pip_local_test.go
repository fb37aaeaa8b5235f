//go:build integration

package integration

import (
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/envkit/envkit/internal/pypi/pypitest"
)

// TestPipConstraintAndLocalWheel builds a definition whose pip part has a
// -c file and a wheel file (over 16 MiB) beside it: the constraint holds envkit-colour
// back to 1.0 (the index has 1.1), the local wheel installs as named and
// its dependency comes from the index. envkit build and the # syntax=
// line make the same image, and envkit create installs the lock on this
// machine; the lock names the wheel by its path.
func TestPipConstraintAndLocalWheel(t *testing.T) {
	server, _ := pipServer(t)
	// 17 MiB of random bytes: larger than one BuildKit gateway read, as
	// the wheels of models are.
	blob := make([]byte, 17<<20)
	rand.Read(blob)
	local := pypitest.Dist{Name: "envkit-local", Version: "0.1", Requires: []string{"envkit-colour"},
		Files: map[string]string{"envkit_local/show.py": "from envkit_colour.names import RED\nprint('local in', RED)\n", "envkit_local/weights.bin": string(blob)}}
	def := `name: pip-local
base:
  image: docker.io/library/debian:bookworm-slim
conda:
  channels:
    - ` + env.channel + `
  dependencies:
    - python=3.11
    - pip:
      - --index-url ` + server + `/simple
      - -c pins/constraints.txt
      - envkit-greet
      - ./wheels/` + local.Filename() + `
`
	dir := writeFiles(t, map[string]string{
		"environment.yml":            "# syntax=" + frontendImage(t) + "\n" + def,
		"pins/constraints.txt":       "# what the team allows\nenvkit-colour<1.1\nnot-required-anywhere==9\n",
		"wheels/" + local.Filename(): string(local.Build()),
	})
	file := filepath.Join(dir, "environment.yml")
	run(t, 2*time.Minute, "envkit", "lock", file)
	lockData, err := os.ReadFile(filepath.Join(dir, "conda-lock.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"url: wheels/envkit_local-0.1-py3-none-any.whl", "envkit_colour-1.0-py3-none-any.whl", "envkit_greet-1.0-py3-none-any.whl"} {
		if !strings.Contains(string(lockData), want) {
			t.Errorf("conda-lock.yml lacks %q:\n%s", want, lockData)
		}
	}
	if strings.Contains(string(lockData), dir) || strings.Contains(string(lockData), "not-required-anywhere") {
		t.Errorf("conda-lock.yml holds the host path or an unrequired constraint:\n%s", lockData)
	}

	// envkit sbom reads the wheel file's METADATA beside the lock.
	if sb := run(t, time.Minute, "envkit", "sbom", file); !strings.Contains(sb, `"name": "envkit-local"`) {
		t.Errorf("envkit sbom lacks envkit-local:\n%s", sb)
	}

	// envkit create installs the same lock on this machine, the wheel
	// file read from beside the lock.
	prefix := filepath.Join(t.TempDir(), "env")
	run(t, 5*time.Minute, "envkit", "create", "--prefix", prefix, "--lock", filepath.Join(dir, "conda-lock.yml"))
	if out, err := exec.Command(filepath.Join(prefix, "bin", "python"), "-m", "envkit_local.show").CombinedOutput(); err != nil || string(out) != "local in red\n" {
		t.Errorf("envkit create: python -m envkit_local.show: %q, %v", out, err)
	}

	repo := env.Registry + "/envkit/pip-local"
	inProcess := filepath.Join(t.TempDir(), "inprocess.json")
	run(t, 15*time.Minute, "envkit", "build", file, "--addr", env.BuildkitHost, "--progress", "plain",
		"--build-arg", "SOURCE_DATE_EPOCH="+epoch, "--output", imageOutput(repo+":inprocess"), "--metadata-file", inProcess)
	syntax := filepath.Join(t.TempDir(), "syntax.json")
	run(t, 15*time.Minute, "buildctl", "--addr", env.BuildkitHost, "build", "--progress", "plain",
		"--frontend", "dockerfile.v0", "--local", "context="+dir, "--local", "dockerfile="+dir, "--opt", "filename=environment.yml",
		"--opt", "build-arg:SOURCE_DATE_EPOCH="+epoch, "--output", imageOutput(repo+":syntax"), "--metadata-file", syntax)
	digest := metadataDigest(t, inProcess)
	if d := metadataDigest(t, syntax); d != digest {
		t.Errorf("# syntax= made %s, envkit build %s", d, digest)
	}
	got := runIn(t, repo+"@"+digest, `{
python -m envkit_local.show
envkit-greet
python -c 'import importlib.metadata as m; print(sorted((d.metadata["Name"], d.version) for d in m.distributions()))'
} > $OUT/result 2>&1`)
	want := "local in red\ngreetings in red\n[('envkit-colour', '1.0'), ('envkit-greet', '1.0'), ('envkit-local', '0.1')]\n"
	if got != want {
		t.Errorf("in the image:\n%s\nwant:\n%s", got, want)
	}
}
