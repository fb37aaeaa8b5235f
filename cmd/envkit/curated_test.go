package main

import (
	"strings"
	"testing"

	"github.com/envkit/envkit/curated"
)

func TestCuratedCommands(t *testing.T) {
	out := mustRun(t, "curated", "list")
	for _, name := range curated.Names() {
		if !strings.Contains(out, "\n"+name+" ") {
			t.Errorf("curated list misses %s:\n%s", name, out)
		}
	}
	want, _ := curated.Get("sklearn")
	if got := mustRun(t, "curated", "show", "sklearn"); got != string(want) {
		t.Errorf("curated show sklearn printed %q", got)
	}
	// diff and inspect take curated/NAME like a file.
	out = mustRun(t, "diff", "curated/python", "curated/sklearn")
	if !strings.Contains(out, "+ scikit-learn: scikit-learn=1.5") || !strings.Contains(out, "(changed)") {
		t.Errorf("diff curated/python curated/sklearn:\n%s", out)
	}
	if out = mustRun(t, "inspect", "--mirror", "docker.io=127.0.0.1:1", "curated/spark"); !strings.Contains(out, "definition  curated/spark\n") {
		t.Errorf("inspect curated/spark:\n%s", out)
	}
	_, errOut, code := runCmd(t, "curated", "show", "nope")
	if code != 1 || !strings.Contains(errOut, `no curated environment "nope"`) {
		t.Errorf("curated show nope: exit %d, %q", code, errOut)
	}
}
