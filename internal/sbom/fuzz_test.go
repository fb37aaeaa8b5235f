package sbom

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var refRe = regexp.MustCompile(`^LicenseRef-[A-Za-z0-9.-]+$`)

// Whatever a package declares, its licence is NOASSERTION, one
// LicenseRef- with the text kept, or an expression of SPDX identifiers
// from the table; Denied reads any of them.
func FuzzNormalizeLicense(f *testing.F) {
	for _, s := range []string{"", "MIT", "BSD 3-Clause", "GPL (>= 2) | file LICENSE", "(MIT OR Apache-2.0) AND BSD-3-Clause", "GPL-3.0-only WITH GCC-exception-3.1", "((MIT", "MIT OR", "AND", "é\x00"} {
		f.Add(s)
	}
	ids := map[string]bool{"AND": true, "OR": true, "WITH": true}
	for _, id := range licenseAliases {
		ids[id] = true
	}
	f.Fuzz(func(t *testing.T, s string) {
		l := NormalizeLicense(s)
		switch {
		case l.Expression == NoAssertion:
			if strings.TrimSpace(s) != "" {
				t.Errorf("%q: NOASSERTION", s)
			}
		case l.Ref:
			if !refRe.MatchString(l.Expression) || l.Declared != strings.TrimSpace(s) {
				t.Errorf("%q: %+v", s, l)
			}
		default:
			for _, tok := range strings.Fields(strings.NewReplacer("(", " ", ")", " ").Replace(l.Expression)) {
				if !ids[tok] {
					t.Errorf("%q: %q holds %q", s, l.Expression, tok)
				}
			}
		}
		Denied(l.Expression, []string{"GPL-3.0-only"})
		Denied(s, strings.Fields(s))
	})
}

// No URL keeps userinfo, a query or a /t/<token>/ pair once redacted,
// and redacting twice changes nothing.
func FuzzRedactURL(f *testing.F) {
	for _, s := range []string{"https://u:p@h/t/tok/ch/noarch/x.conda?a=b#sha256=1", "file:///srv/t/x", "http://[::1]/x", "%zz", "https://h/t/t/t/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := RedactURL(s)
		if out == "" {
			return
		}
		u, err := url.Parse(out)
		if err != nil {
			t.Fatalf("%q -> %q: %v", s, out, err)
		}
		segs := strings.Split(u.Path, "/")
		if i := slices.Index(segs, "t"); u.User != nil || u.RawQuery != "" || i >= 0 && i < len(segs)-2 {
			t.Errorf("%q -> %q keeps a credential", s, out)
		}
		if again := RedactURL(out); again != out {
			t.Errorf("%q -> %q -> %q", s, out, again)
		}
	})
}
