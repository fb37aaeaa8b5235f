package envlock

import (
	"strings"
	"testing"

	"github.com/envkit/envkit/internal/conda/lock"
	"github.com/envkit/envkit/internal/spec"
)

func hashOf(t *testing.T, src string) string {
	t.Helper()
	def, err := spec.Parse("environment.yml", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	return lock.ContentHash(Inputs(def, func(string) (string, bool) { return "", false }), "linux-64")
}

// The spark section enters the lock inputs: its packages, repositories
// and precache stale the lock; a definition without one hashes as before.
func TestSparkStalesTheLock(t *testing.T) {
	const conda = "name: t\nconda:\n  channels: [conda-forge]\n  dependencies: [python=3.11]\n"
	const spark = "spark:\n  repositories: [http://127.0.0.1:1/maven2]\n  packages:\n    - {group: org.demo, artifact: util, version: \"1.0\"}\n  precache: true\n"
	plain := hashOf(t, conda)
	if want := lock.ContentHash(lock.Inputs{Channels: []string{"conda-forge"}, Specs: []string{"python=3.11"}}, "linux-64"); plain != want {
		t.Errorf("without spark: %s, want the hash earlier versions wrote (%s)", plain, want)
	}
	with := hashOf(t, conda+spark)
	if with == plain {
		t.Error("the spark section is not in the content hash")
	}
	for _, change := range [][2]string{{`"1.0"`, `"1.1"`}, {"precache: true", "precache: false"}, {"127.0.0.1:1", "127.0.0.1:2"}} {
		if hashOf(t, conda+strings.Replace(spark, change[0], change[1], 1)) == with {
			t.Errorf("changing %s to %s keeps the hash", change[0], change[1])
		}
	}
}

// Both pip lists are lock inputs.
func TestPipLinesAreInputs(t *testing.T) {
	const conda = "name: t\nconda:\n  channels: [conda-forge]\n  dependencies:\n    - python=3.11\n    - pip:\n      - requests\n"
	a := hashOf(t, conda)
	if a == hashOf(t, strings.Replace(conda, "requests", "requests==2.32.3", 1)) {
		t.Error("the conda file's pip part is not hashed")
	}
	if a == hashOf(t, conda+"pip:\n  - click\n") {
		t.Error("the top-level pip list is not hashed")
	}
}
