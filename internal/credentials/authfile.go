package credentials

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// authFile is a credentials file in rattler's format (the library pixi
// and rattler-build are made of): a JSON object from a host name, or a
// "*.domain" wildcard, to one entry, {"BearerToken": "…"},
// {"BasicHTTP": {"username": "…", "password": "…"}} or
// {"CondaToken": "…"}.
type authFile struct {
	path string
	// name is how messages call the file.
	name string
}

// authFiles are the auth files in rattler's order: the one
// $RATTLER_AUTH_FILE names, then ~/.rattler/credentials.json (where pixi
// auth login writes when there is no keyring). The keyring rattler reads
// between them is not read.
func authFiles() []authFile {
	var fs []authFile
	if p := os.Getenv("RATTLER_AUTH_FILE"); p != "" {
		fs = append(fs, authFile{p, "RATTLER_AUTH_FILE (" + p + ")"})
	}
	if home, err := os.UserHomeDir(); err == nil {
		p := filepath.Join(home, ".rattler", "credentials.json")
		fs = append(fs, authFile{p, p})
	}
	return fs
}

// lookup returns the entry for host as rattler finds it: the host name
// itself, else the wildcards of its domain from the longest
// ("*.repo.prefix.dev", "*.prefix.dev", "*.dev"); no entry when the file
// is missing, as in rattler. Keys are host names without a port.
func (f authFile) lookup(host string) (*authEntry, error) {
	data, err := os.ReadFile(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.name, err)
	}
	e, err := entryFor(data, host)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", f.name, err)
	}
	return e, nil
}

// entryFor is the entry for host in an auth file's data (lookup).
func entryFor(data []byte, host string) (*authEntry, error) {
	var entries map[string]json.RawMessage
	if err := json.Unmarshal(data, &entries); err != nil {
		return nil, fmt.Errorf("not a JSON object of host names and credentials, as rattler and pixi read it: %v", err)
	}
	byKey := make(map[string]json.RawMessage, len(entries))
	for k, v := range entries {
		byKey[strings.ToLower(k)] = v
	}
	host = strings.ToLower(host)
	keys := []string{host}
	if strings.Contains(host, ":") {
		keys = append(keys, "["+host+"]") // an IPv6 address, as rattler writes it
	}
	if net.ParseIP(host) == nil {
		for d := host; d != ""; {
			keys = append(keys, "*."+d)
			_, d, _ = strings.Cut(d, ".")
		}
	}
	for _, k := range keys {
		if raw, ok := byKey[k]; ok {
			e, err := parseEntry(raw)
			if err != nil {
				return nil, fmt.Errorf("the entry for %q: %v", k, err)
			}
			return e, nil
		}
	}
	return nil, nil
}

// authEntry is one entry of an auth file: exactly one field is set.
type authEntry struct {
	bearer, condaToken string
	basic              *Basic
}

// entryKinds are the entry types envkit reads; rattler also has S3 and
// OAuth ones, which serve no HTTP channel envkit can use.
var entryKinds = []string{"BearerToken", "BasicHTTP", "CondaToken"}

// parseEntry reads an entry, an object with one key naming its type. The
// messages name what is wrong, never a value.
func parseEntry(raw json.RawMessage) (*authEntry, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || len(m) != 1 {
		return nil, fmt.Errorf("want one of {%q: TOKEN}, {%q: {\"username\": USER, \"password\": PASSWORD}} or {%q: TOKEN}", entryKinds[0], entryKinds[1], entryKinds[2])
	}
	var kind string
	var v json.RawMessage
	for k, val := range m {
		kind, v = k, val
	}
	var e authEntry
	var err error
	switch {
	case strings.EqualFold(kind, "BearerToken"):
		err = json.Unmarshal(v, &e.bearer)
		if err == nil && (e.bearer == "" || strings.ContainsAny(e.bearer, "\r\n")) {
			err = errors.New("an empty token or one with a line break")
		}
	case strings.EqualFold(kind, "BasicHTTP"):
		var b struct {
			Username string `json:"username"`
			Password string `json:"password"`
		}
		err = json.Unmarshal(v, &b)
		e.basic = &Basic{b.Username, b.Password}
	case strings.EqualFold(kind, "CondaToken"):
		err = json.Unmarshal(v, &e.condaToken)
		// The token becomes a path segment: it must be one as it is.
		if err == nil && (e.condaToken == "" || url.PathEscape(e.condaToken) != e.condaToken) {
			err = errors.New("a conda token must be one path segment that needs no escaping")
		}
	default:
		return nil, fmt.Errorf("%s credentials are not supported by envkit (it reads %s)", kind, strings.Join(entryKinds, ", "))
	}
	if err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			err = fmt.Errorf("%s: a %s where a %s belongs", kind, te.Value, te.Type)
		}
		return nil, err
	}
	return &e, nil
}

// apply adds e to a, the request for u (lowercased, without userinfo):
// a header, or for a conda token its /t/<token> before the path, as
// rattler sends it.
func (e *authEntry) apply(a Auth, u *url.URL, from string) Auth {
	a.From = from
	switch {
	case e.bearer != "":
		a.Header = "Bearer " + e.bearer
	case e.basic != nil:
		a.Header = basicHeader(e.basic.User, e.basic.Password)
	default:
		c := *u
		c.Path = "/t/" + e.condaToken + u.Path
		if u.RawPath != "" {
			c.RawPath = "/t/" + e.condaToken + u.RawPath
		}
		a.URL = c.String()
	}
	return a
}
