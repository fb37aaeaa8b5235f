package llb

import (
	"net/url"
	"strings"

	"github.com/moby/buildkit/client/llb"
)

// authSecretPrefix starts the id of the build secret that holds a host's
// Authorization header value.
const authSecretPrefix = "envkit-auth-"

// AuthSecret is the id of the BuildKit secret whose value (the whole
// header value: "Basic …" or "Bearer …") the HTTP sources of host send as
// their Authorization header.
func AuthSecret(host string) string { return authSecretPrefix + host }

// AuthHost is the host an http(s) URL's credentials are kept by in a
// build: its host and port as the URL writes them, in lower case (two
// servers on one address with different ports have different secrets);
// "" for any other URL.
func AuthHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return ""
	}
	return strings.ToLower(u.Host)
}

// Auth is the plan of which hosts' HTTP sources send an Authorization
// header from a build secret: host (AuthHost) to secret id. Only the
// secret's name enters the LLB, never its value. The zero value sends
// none, and leaves every HTTP source as it was without credentials.
type Auth map[string]string

// NewAuth gives each host its secret (AuthSecret).
func NewAuth(hosts []string) Auth {
	if len(hosts) == 0 {
		return nil
	}
	a := make(Auth, len(hosts))
	for _, h := range hosts {
		a[h] = AuthSecret(h)
	}
	return a
}

// HTTP is the option of an HTTP source of u: its host's secret as the
// Authorization header, or nothing for a host without one, so that the
// source's LLB bytes (and cache key) are those of a build without
// credentials.
func (a Auth) HTTP(u string) llb.HTTPOption {
	if id, ok := a[AuthHost(u)]; ok {
		return llb.AuthHeaderSecret(id)
	}
	return noHTTPOption{}
}

type noHTTPOption struct{}

func (noHTTPOption) SetHTTPOption(*llb.HTTPInfo) {}
