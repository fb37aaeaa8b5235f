package sbom

import (
	"net/url"

	"github.com/envkit/envkit/internal/credentials"
)

// RedactURL is raw without what can carry a credential: the userinfo and
// anaconda.org's token segments (credentials.Strip, the rule locks
// follow too) and the query (signed URLs hold their signature there). It
// is the one way a URL enters an SBOM. A URL that does not parse, or is
// not absolute (no download location), gives "", which the documents
// write as NOASSERTION, so a malformed secret cannot leak through either.
func RedactURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.Scheme == "" {
		return ""
	}
	u.RawQuery = ""
	u.ForceQuery = false
	return credentials.Strip(u.String())
}
