package lint

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/envkit/envkit/internal/spec"
)

// A conda token in a channel's path is a credential as much as a
// user:password, and the finding never shows it.
func TestTokenInChannelPath(t *testing.T) {
	def, err := spec.Parse("environment.yml", []byte("channels:\n  - https://conda.example/t/tk-SECRET-42/private\ndependencies:\n  - python\n"), fstest.MapFS{})
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, f := range Check(def) {
		if f.Rule == RuleCredentials {
			found = append(found, f.String())
		}
	}
	if len(found) != 1 || !strings.Contains(found[0], "environment.yml:2:5") || !strings.Contains(found[0], "https://conda.example/private") || strings.Contains(found[0], "SECRET") {
		t.Errorf("findings %q: want one at 2:5 naming the bare URL, without the token", found)
	}
}
