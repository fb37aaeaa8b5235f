package lock

import (
	"strings"
	"testing"
)

// TestDeepNestingRefused: a lock's YAML nesting is bounded (by yaml.v3's
// 10000-level limit, flow and block alike): an error, not a stack
// overflow.
func TestDeepNestingRefused(t *testing.T) {
	for name, data := range map[string]string{
		"flow":  "version: 1\npackage: " + strings.Repeat("[", 1_000_000),
		"block": "version: 1\npackage:\n" + strings.Repeat("- ", 20_000) + "x\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Read("deep-lock.yml", []byte(data))
			if err == nil || !strings.Contains(err.Error(), "deep-lock.yml: ") || !strings.Contains(err.Error(), "exceeded max depth") {
				t.Fatalf("got %v, want the nesting refused", err)
			}
		})
	}
}
