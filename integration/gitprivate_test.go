//go:build integration

package integration

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/envkit/envkit/internal/gitctx/gittest"
)

// TestGitContextPrivate builds an Azure ML environment from a git
// repository behind basic auth: without credentials envkit lock fails;
// with a netrc ($NETRC) envkit lock reads it and envkit build gives
// BuildKit's git source the secret GIT_AUTH_HEADER.<host>, and the image
// holds the repository's file; the password is in no output.
func TestGitContextPrivate(t *testing.T) {
	repo := gittest.New(t)
	repo.Commit(map[string]string{"env/Dockerfile": "FROM busybox\nCOPY app /app\n", "env/app/app.txt": "private\n"})
	const password = "git-secret-77"
	repo.User, repo.Password = "alice", password
	dir := writeFiles(t, map[string]string{"environment.yml": "$schema: https://azuremlschemas.azureedge.net/latest/environment.schema.json\nname: private\nbuild:\n  path: " + repo.URL + "#main:env\n"})
	file := filepath.Join(dir, "environment.yml")
	netrc := filepath.Join(t.TempDir(), "netrc")
	if err := os.WriteFile(netrc, []byte("machine 127.0.0.1 login alice password "+password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()

	if _, errOut, err := runErr(2*time.Minute, []string{"HOME=" + home, "NETRC=" + filepath.Join(home, "none"), "RATTLER_AUTH_FILE="}, "envkit", "lock", file); err == nil {
		t.Fatalf("envkit lock read a private repository without credentials:\n%s", errOut)
	}
	creds := []string{"HOME=" + home, "NETRC=" + netrc, "RATTLER_AUTH_FILE="}
	var outputs []string
	out, errOut, err := runErr(2*time.Minute, creds, "envkit", "lock", file)
	if err != nil {
		t.Fatalf("envkit lock with a netrc: %v\n%s", err, errOut)
	}
	outputs = append(outputs, out, errOut)
	m := filepath.Join(t.TempDir(), "meta.json")
	ref := env.Registry + "/envkit/gitctx-private:1"
	out, errOut, err = runErr(15*time.Minute, creds, "envkit", "build", file, "--addr", env.BuildkitHost, "--progress", "plain",
		"--build-arg", "SOURCE_DATE_EPOCH="+epoch, "--output", imageOutput(ref), "--metadata-file", m)
	if err != nil {
		t.Fatalf("envkit build with a netrc: %v\n%s", err, tail(errOut, 40))
	}
	outputs = append(outputs, out, errOut)
	d := metadataDigest(t, m)
	if got := runIn(t, env.Registry+"/envkit/gitctx-private@"+d, "cat /app/app.txt > $OUT/result"); strings.TrimSpace(got) != "private" {
		t.Errorf("the image holds app.txt %q", got)
	}
	lockText, _ := os.ReadFile(filepath.Join(dir, "conda-lock.yml"))
	outputs = append(outputs, string(lockText))
	header := base64.StdEncoding.EncodeToString([]byte("alice:" + password))
	for _, o := range outputs {
		if strings.Contains(o, password) || strings.Contains(o, header) {
			t.Errorf("a credential in the output or the lock:\n%s", tail(o, 20))
		}
	}
}
