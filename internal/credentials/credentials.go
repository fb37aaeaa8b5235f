// Package credentials is envkit's one home for the secrets of private
// channels and indexes: where they come from (a URL's user:token, conda's
// /t/<token>/ segments, pip's PIP_INDEX_URL, rattler's auth file, ~/.netrc
// or $NETRC), how a download finds them by host, and the rule that strips
// them from every URL envkit writes or shows. Credentials live in memory only.
package credentials

import (
	"encoding/base64"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Strip returns raw without what carries a credential: the userinfo
// (https://user:token@host) and anaconda.org's "t/<token>" path segments.
// A URL without either, and a string without ":" (a channel name), is
// returned as it is; a string with ":" that is no URL with a scheme, or
// whose stripped form reads back otherwise, gives "", so a malformed
// secret cannot pass either.
func Strip(raw string) string {
	if !strings.Contains(raw, ":") {
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return ""
	}
	c := StripURL(u)
	if u.User == nil && c.Path == u.Path {
		return raw // nothing to take out: kept byte for byte (%2B stays)
	}
	out := c.String()
	// A path that loses segments can read back otherwise ("a:/t/x//"
	// gives "a://", read as an empty authority): no URL to keep.
	if back, err := url.Parse(out); err != nil || back.String() != out || back.User != nil || back.Host != u.Host {
		return ""
	}
	return out
}

// StripURL is a copy of u without its userinfo and token segments.
func StripURL(u *url.URL) *url.URL {
	c := *u
	c.User = nil
	c.Path, _, _ = dropToken(u.Path)
	c.RawPath = ""
	return &c
}

// dropToken removes every "t/<token>" pair of path segments, as conda does
// for anaconda.org channels (conda.anaconda.org/t/<token>/<channel>); a
// "t" that is the last-but-one segment names a file, not a token. It
// returns the first token and the path before it.
func dropToken(p string) (path, token, before string) {
	segs := strings.Split(p, "/")
	out := segs[:0]
	for i := 0; i < len(segs); i++ {
		if segs[i] == "t" && i+1 < len(segs)-1 {
			if token == "" {
				token, before = segs[i+1], strings.Join(out, "/")
			}
			i++
			continue
		}
		out = append(out, segs[i])
	}
	return strings.Join(out, "/"), token, before
}

// Basic is a login and password for HTTP basic authentication.
type Basic struct {
	User, Password string
}

// tokenPrefix re-inserts a /t/<token>/ channel's token: a URL under bare
// is fetched under withToken.
type tokenPrefix struct {
	bare, withToken string
}

// store holds what Remember learnt in this process.
var store struct {
	sync.Mutex
	basic  map[string]Basic // by scheme://host:port
	tokens []tokenPrefix
}

// Remember keeps the credentials raw carries (userinfo for its host, a
// /t/<token>/ for its host and path) for the downloads of this process,
// and returns raw stripped of them (Strip): the URL to write, show and
// fetch.
func Remember(raw string) string {
	bare := Strip(raw)
	if bare == raw || bare == "" {
		return bare
	}
	u, _ := url.Parse(raw) // Strip parsed it
	store.Lock()
	defer store.Unlock()
	if u.User != nil {
		pw, _ := u.User.Password()
		if store.basic == nil {
			store.basic = map[string]Basic{}
		}
		store.basic[hostKey(u)] = Basic{u.User.Username(), pw}
	}
	if _, token, before := dropToken(u.Path); token != "" {
		// As conda does, the token serves every channel of its host under
		// the path it was given at.
		tp := tokenPrefix{hostKey(u) + before, hostKey(u) + before + "/t/" + token}
		for i, old := range store.tokens {
			if old.bare == tp.bare {
				store.tokens = append(store.tokens[:i], store.tokens[i+1:]...)
				break
			}
		}
		store.tokens = append(store.tokens, tp)
	}
	return bare
}

// RememberBase is Remember for a base URL the user gives (a channel, a
// mirror, an alias, an index), under which files are found: a last
// "t/<token>" pair is a token there, not a directory t holding a file.
func RememberBase(raw string) string { return asBase(raw, Remember) }

// StripBase is Strip for a base URL, as RememberBase reads it.
func StripBase(raw string) string { return asBase(raw, Strip) }

// asBase applies f to raw read as a directory: with a trailing "/" that
// the result does not keep.
func asBase(raw string, f func(string) string) string {
	if strings.HasSuffix(raw, "/") || !strings.Contains(raw, "/t/") {
		return f(raw)
	}
	u, err := url.Parse(raw)
	if err != nil || u.RawQuery != "" || u.Fragment != "" {
		return f(raw)
	}
	return strings.TrimSuffix(f(raw+"/"), "/")
}

func hostKey(u *url.URL) string {
	return u.Scheme + "://" + strings.ToLower(u.Host)
}

// Auth is how to request one URL.
type Auth struct {
	// URL is the URL to request: without userinfo, with a channel's
	// /t/<token>/ put back when one is known for it.
	URL string
	// Header is the Authorization header to send ("Basic …" or
	// "Bearer …"), "" for none.
	Header string
	// From names where the credentials came from, for messages ("" when
	// none were found): never the credentials themselves.
	From string
}

// ForURL returns how to request raw, with credentials looked up by host
// in this order: those raw itself carries; those Remember kept (userinfo
// by scheme, host and port; a /t/<token>/ by the path it was given at);
// a PIP_INDEX_URL or PIP_EXTRA_INDEX_URL with userinfo for that host
// (pip's convention); the auth file $RATTLER_AUTH_FILE names, then
// ~/.rattler/credentials.json (rattler's and pixi's convention: a bearer
// token, basic credentials or a conda token by host name); the netrc
// entry for the host. The error is an auth file that cannot be read.
func ForURL(raw string) (Auth, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return Auth{URL: raw}, nil
	}
	var a Auth
	if u.User != nil {
		pw, _ := u.User.Password()
		a.Header, a.From = basicHeader(u.User.Username(), pw), "the URL"
		c := *u
		c.User = nil
		u = &c
	}
	if lower := strings.ToLower(u.Host); lower != u.Host {
		c := *u
		c.Host = lower
		u = &c
	}
	a.URL = u.String()
	_, hasToken, _ := dropToken(u.Path)
	store.Lock()
	if hasToken == "" {
		for _, tp := range store.tokens {
			if rest, ok := strings.CutPrefix(a.URL, tp.bare); ok && (rest == "" || rest[0] == '/') {
				a.URL, hasToken = tp.withToken+rest, "remembered"
				if a.From == "" {
					a.From = "the /t/<token>/ of a URL given to this command"
				}
				break
			}
		}
	}
	if b, ok := store.basic[hostKey(u)]; ok && a.Header == "" {
		a.Header, a.From = basicHeader(b.User, b.Password), "the user:token of a URL given to this command"
	}
	store.Unlock()
	if a.Header != "" || hasToken != "" {
		return a, nil
	}
	if b := fromPipEnv(u); b != nil {
		a.Header, a.From = basicHeader(b.User, b.Password), "PIP_INDEX_URL or PIP_EXTRA_INDEX_URL"
		return a, nil
	}
	for _, f := range authFiles() {
		e, err := f.lookup(u.Hostname())
		if err != nil {
			return Auth{}, err
		}
		if e != nil {
			return e.apply(a, u, f.name), nil
		}
	}
	if b, path := fromNetrc(u.Hostname()); b != nil {
		a.Header, a.From = basicHeader(b.User, b.Password), "the netrc "+path
	}
	return a, nil
}

// basicHeader is the Authorization header of HTTP basic authentication.
func basicHeader(user, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
}

// fromPipEnv is the userinfo of a pip index variable naming u's host.
func fromPipEnv(u *url.URL) *Basic {
	for _, v := range append([]string{os.Getenv("PIP_INDEX_URL")}, strings.Fields(os.Getenv("PIP_EXTRA_INDEX_URL"))...) {
		ix, err := url.Parse(v)
		if err == nil && ix.User != nil && hostKey(ix) == hostKey(u) {
			pw, _ := ix.User.Password()
			return &Basic{ix.User.Username(), pw}
		}
	}
	return nil
}

// netrcPath is $NETRC, else ~/.netrc.
func netrcPath() string {
	if p := os.Getenv("NETRC"); p != "" {
		return p
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".netrc")
}

// fromNetrc is the netrc entry for host, else its default entry, and the
// netrc's path. A netrc that is missing or unreadable gives none: it is
// optional.
func fromNetrc(host string) (*Basic, string) {
	p := netrcPath()
	if p == "" {
		return nil, ""
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, ""
	}
	return ParseNetrc(string(data)).For(host), p
}
