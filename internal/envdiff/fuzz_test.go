package envdiff

import (
	"strings"
	"testing"

	"github.com/envkit/envkit/internal/pypi/pep508"
)

// FuzzPipName: no panic; two spellings of a requirement that differ only
// in the name's case and separators share key and canonical form.
func FuzzPipName(f *testing.F) {
	for _, s := range []string{"Azure_Storage.Blob==12.19.0", "requests[socks]>=2.31 ; python_version>'3'", "torch @ https://x/t.whl", "--index-url https://x", "./pkg", "a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name, canonical := pipName(s), pipCanonical(s)
		other := strings.Replace(s, "-", "_", 1)
		if _, err := pep508.Parse(s); err != nil || other == s {
			return
		}
		if _, err := pep508.Parse(other); err != nil {
			return
		}
		if strings.Index(s, "-") < len(name) && (pipName(other) != name || pipCanonical(other) != canonical) {
			t.Fatalf("%q and %q: keys %q/%q, canonical %q/%q", s, other, name, pipName(other), canonical, pipCanonical(other))
		}
	})
}
