package channel

import (
	"strings"
	"testing"
)

// FuzzResolve: no channel or mirror spelling panics, and a resolved
// channel's URL resolves to itself (canonical means a fixed point).
func FuzzResolve(f *testing.F) {
	for _, s := range []string{"conda-forge", "defaults", "pytorch/label/nightly", "file:///srv/c/", "/srv/c", "http://127.0.0.1:8080/x", "https://conda.anaconda.org/bioconda"} {
		f.Add(s, "conda-forge=http://127.0.0.1:9/cf,defaults=/srv/d")
	}
	f.Fuzz(func(t *testing.T, spec, mirrors string) {
		cfg, err := FromEnv(func(k string) string {
			if k == EnvMirrors {
				return mirrors
			}
			return ""
		})
		if err != nil {
			return
		}
		chans, err := cfg.Resolve(spec, "linux-64")
		if err != nil {
			return
		}
		for _, ch := range chans {
			if !strings.Contains(ch.URL, "://") || strings.HasSuffix(ch.URL, "/") || ch.Name == "" || ch.Location == "" {
				t.Fatalf("Resolve(%q) = %+v", spec, ch)
			}
			again, err := cfg.Resolve(ch.URL, "linux-64")
			if err != nil || len(again) != 1 || again[0].URL != ch.URL {
				t.Fatalf("Resolve(%q) = %+v, but its URL resolves to %+v, %v", spec, ch, again, err)
			}
		}
	})
}
