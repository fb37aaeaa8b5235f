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
	_, errOut, code := runCmd(t, "curated", "show", "nope")
	if code != 1 || !strings.Contains(errOut, `no curated environment "nope"`) {
		t.Errorf("curated show nope: exit %d, %q", code, errOut)
	}
}
