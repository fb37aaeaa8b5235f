package registry

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"oras.land/oras-go/v2/errdef"
	orasregistry "oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"
	"oras.land/oras-go/v2/registry/remote/errcode"
)

// Client reaches registries with the credentials of the Docker config file
// ($DOCKER_CONFIG/config.json, else ~/.docker/config.json, credential
// helpers included) and plain HTTP for loopback hosts.
type Client struct {
	auth *auth.Client
	// loopbackAuth is auth with token realms on loopback allowed: a local
	// registry's token server is on loopback too.
	loopbackAuth *auth.Client
}

// NewClient reads the Docker config file's credentials. A missing config
// file means anonymous access.
func NewClient() (*Client, error) {
	store, err := credentials.NewStoreFromDocker(credentials.StoreOptions{})
	if err != nil {
		return nil, fmt.Errorf("docker config: %w", err)
	}
	return NewClientWith(credentials.Credential(store), nil), nil
}

// NewClientWith uses the given credentials and HTTP client (nil: oras's
// default, which retries transient failures).
func NewClientWith(cred auth.CredentialFunc, httpClient *http.Client) *Client {
	c := &auth.Client{Credential: cred, Cache: auth.NewCache(), Client: httpClient}
	c.SetUserAgent("envkit")
	local := *c
	local.BlockedRealmPrefixes = []netip.Prefix{}
	return &Client{auth: c, loopbackAuth: &local}
}

// repository opens the repository of ref (host/path[:tag]).
func (c *Client) repository(ref orasregistry.Reference) *remote.Repository {
	r := &remote.Repository{Reference: ref, Client: c.auth}
	if isLoopback(ref.Registry) {
		r.PlainHTTP = true
		r.Client = c.loopbackAuth
	}
	r.TagListMaxPages = 100
	return r
}

func (c *Client) registry(host string) (*remote.Registry, error) {
	r, err := remote.NewRegistry(host)
	if err != nil {
		return nil, err
	}
	r.Client = c.auth
	if isLoopback(host) {
		r.PlainHTTP = true
		r.Client = c.loopbackAuth
	}
	return r, nil
}

// isLoopback tells registries reached over plain HTTP: localhost and
// loopback addresses, where TLS would need a certificate nobody has.
func isLoopback(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil && ip.IsLoopback()
}

// parseRepo parses "host[:port]/path" with no tag or digest.
func parseRepo(s string) (orasregistry.Reference, error) {
	ref, err := orasregistry.ParseReference(s)
	if err != nil {
		return ref, fmt.Errorf("%q is not a repository (HOST[:PORT]/PATH): %v", s, err)
	}
	if ref.Reference != "" {
		return ref, fmt.Errorf("%q: a repository takes no tag or digest", s)
	}
	return ref, nil
}

// ParseRef parses "host[:port]/path/NAME[:VERSION]"; the version defaults
// to "latest" and must otherwise be a positive integer or "latest".
func ParseRef(s string) (orasregistry.Reference, error) {
	ref, err := orasregistry.ParseReference(s)
	if err != nil {
		return ref, fmt.Errorf("%q is not an environment reference (HOST[:PORT]/PATH/NAME[:VERSION]): %v", s, err)
	}
	if strings.Contains(s, "@") {
		return ref, fmt.Errorf("%q: name a version, not a digest", s)
	}
	if ref.Reference == "" {
		ref.Reference = LatestTag
	}
	if ref.Reference != LatestTag {
		if _, err := parseVersionTag(ref.Reference); err != nil {
			return ref, fmt.Errorf("%q: version %q is not a positive integer or %q", s, ref.Reference, LatestTag)
		}
	}
	return ref, nil
}

// LooksLikeRef tells an argument that names a registry (its first path
// element has a dot or a port, or is localhost) from a file path.
func LooksLikeRef(s string) bool {
	host, _, ok := strings.Cut(s, "/")
	return ok && (strings.ContainsAny(host, ".:") || host == "localhost") && !strings.HasPrefix(s, ".")
}

// explain turns registry failures into messages that say what went wrong
// with which reference.
func explain(what string, err error) error {
	var resp *errcode.ErrorResponse
	if errors.As(err, &resp) && resp.URL != nil {
		host := resp.URL.Host
		switch resp.StatusCode {
		case http.StatusUnauthorized:
			return fmt.Errorf("%s: authentication failed: check the credentials for %s in the Docker config file (docker login %s)", what, host, host)
		case http.StatusForbidden:
			return fmt.Errorf("%s: access denied: the credentials for %s do not allow this", what, host)
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// isNotFound tells a missing repository or tag.
func isNotFound(err error) bool {
	var resp *errcode.ErrorResponse
	if errors.As(err, &resp) && resp.StatusCode == http.StatusNotFound {
		return true
	}
	return errors.Is(err, errdef.ErrNotFound)
}
