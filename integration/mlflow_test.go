//go:build integration

package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/envkit/envkit/hack/fixtures"
)

// TestMLflowModel is issue 16's MLflow acceptance: a real MLflow model
// folder (python_env.yaml and the requirements.txt it names, from
// mlflow/mlflow's tests) locks against the fixture index, whose wheels
// are named and versioned as its requirements pin them, and builds through
// the # syntax= line; the packages import in the image. The one change to
// the files: python 3.8.12 becomes 3.11, the python the fixture channel
// has (Debian's, as a conda package), read through the conda-forge mirror
// the way a user points conda-forge at a local channel.
func TestMLflowModel(t *testing.T) {
	server, _ := pipServer(t)
	files := map[string]string{}
	for _, name := range []string{"python_env.yaml", "requirements.txt"} {
		b, err := os.ReadFile(filepath.Join("..", filepath.FromSlash(fixtures.MLflowModel), name))
		if err != nil {
			t.Fatal(err)
		}
		files[name] = string(b)
	}
	const python = "python: 3.8.12\n"
	if !strings.HasPrefix(files["python_env.yaml"], python) {
		t.Fatalf("%s/python_env.yaml no longer starts %q", fixtures.MLflowModel, python)
	}
	files["python_env.yaml"] = "# syntax=" + frontendImage(t) + "\npython: '3.11'\n" + strings.TrimPrefix(files["python_env.yaml"], python)
	dir := writeFiles(t, files)
	clientEnv := []string{"ENVKIT_CHANNEL_MIRRORS=conda-forge=" + env.channel, "PIP_INDEX_URL=" + server + "/simple"}
	// The model folder, as a user names it: the lock goes inside.
	if _, stderr, err := runErr(2*time.Minute, clientEnv, "envkit", "lock", dir); err != nil {
		t.Fatalf("envkit lock %s: %v\n%s", dir, err, tail(stderr, 30))
	}
	lockData, err := os.ReadFile(filepath.Join(dir, "conda-lock.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"mlflow-1.30.1-py3-none-any.whl", "scikit_learn-1.1.2-py3-none-any.whl", "cloudpickle-1.6.0-py3-none-any.whl",
		"psutil-5.9.0-py3-none-any.whl", "typing_extensions-4.1.1-py3-none-any.whl", "pip-22.2.2-py3-none-any.whl", "setuptools-58.0.4-py3-none-any.whl", "wheel-0.37.1-py3-none-any.whl"} {
		if !strings.Contains(string(lockData), want) {
			t.Errorf("conda-lock.yml lacks %s:\n%s", want, lockData)
		}
	}

	ref := env.Registry + "/envkit/mlflow-model:test"
	meta := filepath.Join(t.TempDir(), "meta.json")
	run(t, 15*time.Minute, "buildctl", "--addr", env.BuildkitHost, "build", "--progress", "plain",
		"--frontend", "dockerfile.v0", "--local", "context="+dir, "--local", "dockerfile="+dir, "--opt", "filename=python_env.yaml",
		"--opt", "build-arg:SOURCE_DATE_EPOCH="+epoch, "--output", imageOutput(ref), "--metadata-file", meta)
	got := runIn(t, ref+"@"+metadataDigest(t, meta), `{
python -c 'import mlflow, sklearn, cloudpickle, psutil, typing_extensions, setuptools, wheel; print(mlflow.__version__, sklearn.__version__)'
python -c 'import importlib.metadata as m; print(" ".join(sorted(d.metadata["Name"] + "==" + d.version for d in m.distributions())))'
} > $OUT/result 2>&1`)
	want := "1.30.1 1.1.2\ncloudpickle==1.6.0 mlflow==1.30.1 pip==22.2.2 psutil==5.9.0 scikit-learn==1.1.2 setuptools==58.0.4 typing-extensions==4.1.1 wheel==0.37.1\n"
	if got != want {
		t.Errorf("in the image:\n%s\nwant:\n%s", got, want)
	}
}
