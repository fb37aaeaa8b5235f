package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// envkit licenses groups the packages by licence; the lock holds none,
// so every package is NOASSERTION, which lint --deny can refuse.
func TestLicensesAndLintDeny(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	env := writeEnv(t, dir, "  - dependent\n")
	lockFile(t, filepath.Join(dir, "conda-lock.yml"), env)
	out, errOut, code := runSolveCLI(t, "licenses", env)
	if code != 0 {
		t.Fatalf("licenses: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"LICENSE", "NOASSERTION  conda  dependency", "NOASSERTION  conda  dependent", "NOASSERTION  oci    debian"} {
		if !strings.Contains(out, want) {
			t.Errorf("licenses output lacks %q:\n%s", want, out)
		}
	}
	out, _, code = runSolveCLI(t, "lint", "--json", "--deny", "GPL-3.0-only,NOASSERTION", env)
	var findings []struct{ Rule, Message string }
	if err := json.Unmarshal([]byte(out), &findings); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	denied := 0
	for _, f := range findings {
		if f.Rule == RuleLicenseDenied {
			denied++
		}
	}
	if code != 1 || denied != 3 { // dependent, dependency, the base image
		t.Errorf("lint --deny NOASSERTION: exit %d, %d denied: %s", code, denied, out)
	}
	if out, _, _ := runSolveCLI(t, "lint", "--deny", "GPL-3.0-only", env); strings.Contains(out, RuleLicenseDenied) {
		t.Errorf("lint --deny GPL-3.0-only denied unknown licences:\n%s", out)
	}
}
