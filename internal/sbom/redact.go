package sbom

import (
	"net/url"
	"strings"
)

// RedactURL is raw without what can carry a credential: the userinfo
// (https://user:token@host), anaconda.org's token segments (/t/<token>/)
// and the query (signed URLs hold their signature there). It is the one
// way a URL enters an SBOM. A URL that does not parse, or is not
// absolute (no download location), gives "", which the documents write as
// NOASSERTION, so a malformed secret cannot leak through either.
func RedactURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.Scheme == "" {
		return ""
	}
	u.User = nil
	u.RawQuery = ""
	u.ForceQuery = false
	u.Path = dropTokens(u.Path)
	u.RawPath = ""
	return u.String()
}

// dropTokens removes every "t/<token>" pair of path segments, as conda
// does for anaconda.org channels (conda.anaconda.org/t/<token>/<channel>).
func dropTokens(p string) string {
	segs := strings.Split(p, "/")
	out := segs[:0]
	for i := 0; i < len(segs); i++ {
		if segs[i] == "t" && i+1 < len(segs)-1 {
			i++
			continue
		}
		out = append(out, segs[i])
	}
	return strings.Join(out, "/")
}
