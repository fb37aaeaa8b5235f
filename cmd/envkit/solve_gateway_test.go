package main

import (
	"strings"
	"testing"

	"github.com/envkit/envkit/internal/conformance"
)

// TestSolveVerbose: solve -v says how the channels were read. The
// conformance channel conda_format_repo has CEP 16 shards (written by
// conda-index) for linux-64 and only repodata.json for noarch.
func TestSolveVerbose(t *testing.T) {
	isolate(t)
	ch := "file://" + conformance.Dir(t, "channels", "conda_format_repo")
	stdout, stderr, code := runSolveCLI(t, "solve", "-v", "--channel", ch, "zlib")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "zlib 1.2.11 h7b6447c_3 ") || !strings.Contains(stdout, "libgcc-ng ") {
		t.Fatalf("stdout %q", stdout)
	}
	want := "envkit: channels for linux-64: 1 subdirs sharded, 1 monolithic; 2 names, 2 records; "
	if !strings.HasPrefix(stderr, want) {
		t.Fatalf("stderr %q, want it to start with %q", stderr, want)
	}
	if _, stderr, _ := runSolveCLI(t, "solve", "--channel", ch, "zlib"); stderr != "" {
		t.Fatalf("without -v, stderr %q", stderr)
	}
}
