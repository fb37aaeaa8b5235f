//go:build integration

package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/envkit/envkit/internal/gitctx/gittest"
)

// TestGitContext builds an Azure ML environment whose build.path is a git
// URL (branch main, subdirectory env) served on 127.0.0.1: envkit lock
// records main's commit; envkit hash of the branch with that lock equals
// the hash of the same URL naming the commit; after main moves on, the
// build through # syntax= still builds the locked commit, on two fresh
// builders, with one digest, which envkit build gives too.
func TestGitContext(t *testing.T) {
	repo := gittest.New(t)
	locked := repo.Commit(map[string]string{
		"env/Dockerfile":  "FROM busybox\nCOPY app /app\n",
		"env/app/app.txt": "locked\n",
		"README":          "not in the context\n",
	})
	url := repo.URL

	azure := func(ref string) string {
		return "# syntax=" + frontendImage(t) + "\n$schema: https://azuremlschemas.azureedge.net/latest/environment.schema.json\nname: gitctx\nbuild:\n  path: " + url + "#" + ref + ":env\n"
	}
	branchDir := writeFiles(t, map[string]string{"environment.yml": azure("main")})
	branchFile := filepath.Join(branchDir, "environment.yml")
	shaFile := filepath.Join(writeFiles(t, map[string]string{"environment.yml": azure(locked)}), "environment.yml")

	run(t, 2*time.Minute, "envkit", "validate", shaFile)
	run(t, 2*time.Minute, "envkit", "lock", branchFile)
	lockText, err := os.ReadFile(filepath.Join(branchDir, "conda-lock.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "git-context:" + url + "#main: " + locked; !strings.Contains(string(lockText), want) {
		t.Fatalf("the lock does not pin main (want %q):\n%s", want, lockText)
	}

	// main moves on: the lock keeps the branch on the commit it read.
	repo.Commit(map[string]string{"env/app/app.txt": "moved on\n"})
	branchHash := run(t, 2*time.Minute, "envkit", "hash", branchFile)
	shaHash := run(t, 2*time.Minute, "envkit", "hash", shaFile)
	if branchHash != shaHash {
		t.Errorf("envkit hash: branch with its lock %s, the locked commit in the URL %s", branchHash, shaHash)
	}
	lint, _, _ := runErr(2*time.Minute, nil, "envkit", "lint", branchFile)
	if !strings.Contains(lint, "git-context-ref-moves") {
		t.Errorf("envkit lint does not warn about the branch ref:\n%s", lint)
	}
	if out, _, _ := runErr(2*time.Minute, nil, "envkit", "lint", shaFile); strings.Contains(out, "git-context-ref-moves") {
		t.Errorf("envkit lint warns about a commit ref:\n%s", out)
	}

	var digests []string
	for i, addr := range []string{freshBuilder(t), freshBuilder(t)} {
		m := filepath.Join(t.TempDir(), "meta.json")
		ref := env.Registry + "/envkit/gitctx:" + []string{"a", "b"}[i]
		// COPY from the checkout: its mtimes are the checkout's, as for
		// a Dockerfile; the exporter rewrites them to SOURCE_DATE_EPOCH.
		run(t, 15*time.Minute, "buildctl", "--addr", addr, "build", "--progress", "plain", "--frontend", "dockerfile.v0",
			"--local", "context="+branchDir, "--local", "dockerfile="+branchDir, "--opt", "filename=environment.yml",
			"--opt", "build-arg:SOURCE_DATE_EPOCH="+epoch, "--output", imageOutput(ref)+",rewrite-timestamp=true", "--metadata-file", m)
		digests = append(digests, metadataDigest(t, m))
	}
	if digests[0] != digests[1] {
		t.Fatalf("two fresh builders: %s and %s", digests[0], digests[1])
	}
	// envkit build reads the same lock and asks for rewrite-timestamp by
	// itself: the same image.
	m := filepath.Join(t.TempDir(), "meta.json")
	run(t, 15*time.Minute, "envkit", "build", branchFile, "--addr", env.BuildkitHost, "--progress", "plain",
		"--build-arg", "SOURCE_DATE_EPOCH="+epoch, "--output", imageOutput(env.Registry+"/envkit/gitctx:inprocess"), "--metadata-file", m)
	if d := metadataDigest(t, m); d != digests[0] {
		t.Errorf("envkit build: %s, # syntax=: %s", d, digests[0])
	}
	t.Logf("two fresh builders: %s; envkit hash %s", digests[0], strings.TrimSpace(branchHash))
	if got := runIn(t, env.Registry+"/envkit/gitctx@"+digests[0], "cat /app/app.txt > $OUT/result"); strings.TrimSpace(got) != "locked" {
		t.Errorf("the image holds app.txt %q, want the locked commit's", got)
	}
}
