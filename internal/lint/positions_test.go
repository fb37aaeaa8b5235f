package lint

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/envkit/envkit/internal/spec"
)

func findings(t *testing.T, name, text string, files fstest.MapFS) []string {
	t.Helper()
	def, err := spec.Parse(name, []byte(text), files)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range Check(def) {
		out = append(out, f.String())
	}
	return out
}

// Findings point at what the user wrote: a line of the definition rather
// than of a -c file it reads, and never at what envkit added itself.
func TestFindingsAtWhatTheUserWrote(t *testing.T) {
	files := fstest.MapFS{"c.txt": {Data: []byte("numpy<2\n")}, "requirements.txt": {Data: []byte("numpy==1.26.4\n")}}
	got := findings(t, "environment.yml", "channels: [conda-forge]\ndependencies:\n  - python=3.11\n  - pip:\n    - -c c.txt\n    - numpy\n", files)
	var pipMissing string
	for _, f := range got {
		if strings.Contains(f, RulePipMissing) {
			pipMissing = f
		}
	}
	if !strings.HasPrefix(pipMissing, "environment.yml:6:7:") {
		t.Errorf("pip-not-specified at %q, want the definition's own pip line (6:7); all: %q", pipMissing, got)
	}
	for _, c := range []struct{ name, text string }{
		{"requirements.txt", "numpy==1.26.4\n"},
		{"python_env.yaml", "python: 3.11\nbuild_dependencies:\n  - pip==23.0\ndependencies:\n  - numpy==1.26.4\n"},
	} {
		for _, f := range findings(t, c.name, c.text, files) {
			if strings.Contains(f, RulePipMissing) || strings.Contains(f, RuleUnpinnedConda) || strings.HasPrefix(f, ":") {
				t.Errorf("%s: %s", c.name, f)
			}
		}
	}
}
