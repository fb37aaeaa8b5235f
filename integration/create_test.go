//go:build integration

package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCreateOnHostWithPip: envkit create makes the environment on this
// machine from a lock with conda and pip packages, as the image has it:
// the wheels' .pyc written with the environment's python and listed in
// RECORD, the console script on the prefix's bin.
func TestCreateOnHostWithPip(t *testing.T) {
	def := strings.Replace(helloDefinition(env.channel), "    - envkit-hello\n",
		"    - envkit-hello\n    - pip:\n        - --index-url "+env.ChannelURL+"/pypi/simple\n        - envkit-greet==1.0\n", 1)
	dir := writeFiles(t, map[string]string{"environment.yml": def})
	file := filepath.Join(dir, "environment.yml")
	run(t, 2*time.Minute, "envkit", "lock", file)
	prefix := filepath.Join(t.TempDir(), "env")
	run(t, 5*time.Minute, "envkit", "create", "--prefix", prefix, "--lock", filepath.Join(dir, "conda-lock.yml"))

	out, err := exec.Command(filepath.Join(prefix, "bin", "envkit-greet")).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "greetings in rouge" {
		t.Errorf("envkit-greet: %q, %v", out, err)
	}
	site := filepath.Join(prefix, "lib", "python3.11", "site-packages")
	if _, err := os.Stat(filepath.Join(site, "envkit_greet", "__pycache__", "cli.cpython-311.pyc")); err != nil {
		t.Errorf("no .pyc for the wheel's module: %v", err)
	}
	record, err := os.ReadFile(filepath.Join(site, "envkit_greet-1.0.dist-info", "RECORD"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(record), "envkit_greet/__pycache__/cli.cpython-311.pyc,sha256=") {
		t.Errorf("RECORD does not list the .pyc:\n%s", record)
	}
}
