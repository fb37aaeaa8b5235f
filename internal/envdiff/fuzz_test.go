package envdiff

import (
	"strings"
	"testing"
)

// FuzzPipName: no panic; the key of a requirement is stable under
// pipCanonical (the name part survives canonicalisation).
func FuzzPipName(f *testing.F) {
	for _, s := range []string{"Azure_Storage.Blob==12.19.0", "requests[socks]>=2.31 ; python_version>'3'", "torch @ https://x/t.whl", "--index-url https://x", "./pkg", "a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name := pipName(s)
		if strings.HasPrefix(strings.TrimSpace(s), "-") {
			return
		}
		if c := pipCanonical(s); name != strings.TrimSpace(s) && !strings.HasPrefix(c, strings.Join(strings.Fields(name), "")) {
			t.Fatalf("pipName(%q) = %q, but pipCanonical = %q", s, name, c)
		}
		if pipName(name) != name && name != strings.TrimSpace(s) {
			t.Fatalf("pipName not idempotent: %q -> %q -> %q", s, name, pipName(name))
		}
	})
}
