package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/envkit/envkit/internal/conformance"
)

// runSolveCLI runs the CLI with stdout and stderr captured.
func runSolveCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	dir := t.TempDir()
	outF, err := os.Create(filepath.Join(dir, "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	errF, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	oldOut, oldErr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = outF, errF
	code = run(args)
	os.Stdout, os.Stderr = oldOut, oldErr
	outF.Close()
	errF.Close()
	o, _ := os.ReadFile(outF.Name())
	e, _ := os.ReadFile(errF.Name())
	return string(o), string(e), code
}

// isolate keeps the test away from the user's cache and channel settings.
func isolate(t *testing.T) {
	t.Setenv("ENVKIT_CACHE_DIR", t.TempDir())
	t.Setenv("ENVKIT_CHANNEL_ALIAS", "")
	t.Setenv("ENVKIT_CHANNEL_MIRRORS", "")
}

type solvedJSON struct {
	Name        string   `json:"name"`
	Version     string   `json:"version"`
	Build       string   `json:"build"`
	BuildNumber *int64   `json:"build_number"`
	Subdir      string   `json:"subdir"`
	Channel     string   `json:"channel"`
	URL         string   `json:"url"`
	SHA256      string   `json:"sha256"`
	MD5         string   `json:"md5"`
	Depends     []string `json:"depends"`
	Constrains  []string `json:"constrains"`
}

func TestSolveCommandFileChannelJSON(t *testing.T) {
	isolate(t)
	dir := conformance.Dir(t, "channels", "test-recipes")
	out, errOut, code := runSolveCLI(t, "solve", "--channel", "file://"+dir, "--json", "dependent 1.0")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got []solvedJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	var names []string
	for _, r := range got {
		names = append(names, r.Name+"="+r.Version)
		if r.BuildNumber == nil || r.Depends == nil || r.Constrains == nil || r.Subdir == "" || r.Channel == "" {
			t.Errorf("%s: missing fields: %+v", r.Name, r)
		}
	}
	// Sorted by name; virtual packages are part of the solution only when
	// something needs them.
	if strings.Join(names, " ") != "dependency=1.0 dependent=1.0" {
		t.Fatalf("solution %v", names)
	}
	dep := got[0]
	if dep.SHA256 == "" || dep.MD5 == "" || !strings.HasPrefix(dep.URL, "file://"+dir+"/noarch/") {
		t.Errorf("dependency record: %+v", dep)
	}
}

func TestSolveCommandHTTPChannelTable(t *testing.T) {
	isolate(t)
	srv := httptest.NewServer(http.FileServer(http.Dir(conformance.Dir(t, "channels", "test-recipes"))))
	defer srv.Close()
	out, errOut, code := runSolveCLI(t, "solve", "-c", srv.URL+"/", "another_dependent")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "NAME") {
		t.Fatalf("table:\n%s", out)
	}
	for i, want := range []string{"another_dependent  2.0", "dependency", "dependent"} {
		if !strings.HasPrefix(lines[i+1], want) {
			t.Errorf("line %d = %q, want prefix %q", i+1, lines[i+1], want)
		}
	}
}

func TestSolveCommandUnsatisfiable(t *testing.T) {
	isolate(t)
	dir := conformance.Dir(t, "channels", "test-recipes")
	out, errOut, code := runSolveCLI(t, "solve", "--channel", "file://"+dir, "unsatisfiable")
	if code != 1 || out != "" {
		t.Fatalf("exit %d, stdout %q; want 1 and nothing", code, out)
	}
	if !strings.Contains(errOut, "unsatisfiable 1.0 needs versioned <1.0") {
		t.Errorf("explanation:\n%s", errOut)
	}
	if _, _, code := runSolveCLI(t, "solve"); code != 2 {
		t.Errorf("no spec: exit %d, want 2", code)
	}
	if _, errOut, code := runSolveCLI(t, "solve", "--channel", "file://"+dir, "bad spec ((("); code != 1 || errOut == "" {
		t.Errorf("bad spec: exit %d, %q", code, errOut)
	}
}
