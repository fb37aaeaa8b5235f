package buildplan

import (
	"strings"
	"testing"
)

func TestImageKeyChangesWithEachInput(t *testing.T) {
	base := ImageKey("sha256:a", "b", "sha256:c", 0)
	// The default budget keeps the key images were stored under before
	// the budget could be set.
	if want := "envkit-77d5104f6a78d1edb67074d9990f1ca9"; base != want {
		t.Errorf("key %s, want %s as before", base, want)
	}
	for _, k := range []string{ImageKey("sha256:x", "b", "sha256:c", 0), ImageKey("sha256:a", "x", "sha256:c", 0), ImageKey("sha256:a", "b", "sha256:x", 0), ImageKey("sha256:a", "b", "sha256:c", 5)} {
		if k == base {
			t.Errorf("key %s did not change", k)
		}
	}
	if !strings.HasPrefix(base, "envkit-") || len(base) != len("envkit-")+32 {
		t.Errorf("key %q: want envkit- and 32 hex digits", base)
	}
}
