// Package channel turns conda channel names and URLs into the URLs their
// repodata is read from: the channel alias, "defaults", labels, file://
// and http(s):// channels, and mirrors. docs/channels.md describes the
// rules and the environment variables.
package channel

import (
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// DefaultAlias is where bare channel names live, as in conda.
const DefaultAlias = "https://conda.anaconda.org"

// Default is the channel of a request or conda part that names none. The
// CLI and the frontend must agree on it, or a lock made by one would look
// stale to the other.
const Default = "conda-forge"

// DefaultsBase is the root of Anaconda's "defaults" channels.
const DefaultsBase = "https://repo.anaconda.com/pkgs"

// Environment variables read by FromEnv.
const (
	EnvAlias   = "ENVKIT_CHANNEL_ALIAS"
	EnvMirrors = "ENVKIT_CHANNEL_MIRRORS"
)

// Channel is one resolved channel.
type Channel struct {
	// Name is the display name: "conda-forge", "pytorch/label/nightly",
	// "defaults" for Anaconda's main and r, else the URL.
	Name string
	// URL is the canonical URL without subdir, the channel's identity
	// (Record.Channel, the lock's channel list, channel::name matching).
	URL string
	// Location is where repodata and packages are fetched from: URL, or
	// its mirror.
	Location string
}

// Config holds the channel alias and the mirrors.
type Config struct {
	// Alias prefixes bare channel names; DefaultAlias when empty.
	Alias string
	// Mirrors maps canonical URL prefixes (whole path segments) to the
	// URL that replaces them. Add entries with AddMirror.
	Mirrors map[string]string
}

// FromEnv reads ENVKIT_CHANNEL_ALIAS and ENVKIT_CHANNEL_MIRRORS
// ("conda-forge=http://127.0.0.1:8080/conda-forge,defaults=file:///srv/anaconda").
func FromEnv(getenv func(string) string) (*Config, error) {
	c := &Config{Alias: getenv(EnvAlias)}
	if c.Alias != "" {
		if _, err := absoluteURL(c.Alias); err != nil {
			return nil, fmt.Errorf("%s: %w", EnvAlias, err)
		}
	}
	for _, m := range strings.Split(getenv(EnvMirrors), ",") {
		if strings.TrimSpace(m) == "" {
			continue
		}
		if err := c.AddMirror(m); err != nil {
			return nil, fmt.Errorf("%s: %w", EnvMirrors, err)
		}
	}
	return c, nil
}

// AddMirror adds "CHANNEL=URL": CHANNEL is a channel name ("conda-forge"),
// "defaults" (mirrors https://repo.anaconda.com/pkgs, so main is read
// from URL/main) or a URL prefix; URL is http(s)://, file:// or an
// absolute directory.
func (c *Config) AddMirror(spec string) error {
	from, to, ok := strings.Cut(spec, "=")
	from, to = strings.TrimSpace(from), strings.TrimSpace(to)
	if !ok || from == "" || to == "" {
		return fmt.Errorf("mirror %q: want CHANNEL=URL", spec)
	}
	var key string
	if from == "defaults" {
		key = DefaultsBase
	} else {
		k, err := c.canonicalURL(from)
		if err != nil {
			return fmt.Errorf("mirror %q: %w", spec, err)
		}
		key = k
	}
	target, err := absoluteURL(to)
	if err != nil {
		return fmt.Errorf("mirror %q: %w", spec, err)
	}
	if c.Mirrors == nil {
		c.Mirrors = map[string]string{}
	}
	c.Mirrors[key] = target
	return nil
}

func (c *Config) alias() string {
	if c == nil || c.Alias == "" {
		return DefaultAlias
	}
	return strings.TrimRight(c.Alias, "/")
}

// Resolve turns a channel as written in an environment file or on the
// command line into channels, in priority order. "defaults" expands to
// Anaconda's main and r, plus msys2 when platform is a win-* subdir.
func (c *Config) Resolve(spec, platform string) ([]Channel, error) {
	spec = strings.TrimSpace(spec)
	if spec == "defaults" {
		names := []string{"main", "r"}
		if strings.HasPrefix(platform, "win-") {
			names = append(names, "msys2")
		}
		out := make([]Channel, len(names))
		for i, n := range names {
			u := DefaultsBase + "/" + n
			out[i] = Channel{Name: "defaults", URL: u, Location: c.mirror(u)}
		}
		return out, nil
	}
	u, err := c.canonicalURL(spec)
	if err != nil {
		return nil, err
	}
	return []Channel{{Name: c.DisplayName(u), URL: u, Location: c.mirror(u)}}, nil
}

// ResolveAll resolves a channel list, dropping repeats (the first
// occurrence keeps its priority).
func (c *Config) ResolveAll(specs []string, platform string) ([]Channel, error) {
	var out []Channel
	for _, s := range specs {
		chs, err := c.Resolve(s, platform)
		if err != nil {
			return nil, err
		}
		for _, ch := range chs {
			if !slices.ContainsFunc(out, func(o Channel) bool { return o.URL == ch.URL }) {
				out = append(out, ch)
			}
		}
	}
	return out, nil
}

// Canonical returns the canonical URL of a channel name or URL, for
// comparing a MatchSpec's "channel::" with Record.Channel. "defaults"
// has no single URL and gives its base (https://repo.anaconda.com/pkgs).
func (c *Config) Canonical(spec string) (string, error) {
	if strings.TrimSpace(spec) == "defaults" {
		return DefaultsBase, nil
	}
	return c.canonicalURL(spec)
}

// DisplayName is the short name of a canonical channel URL: the path
// under the alias, "defaults" for Anaconda's default channels, else the
// URL itself.
func (c *Config) DisplayName(canonical string) string {
	if rest, ok := underPrefix(canonical, c.alias()); ok && rest != "" {
		return rest
	}
	if rest, ok := underPrefix(canonical, DefaultsBase); ok && slices.Contains([]string{"main", "r", "msys2"}, rest) {
		return "defaults"
	}
	return canonical
}

func (c *Config) canonicalURL(spec string) (string, error) {
	if spec == "" {
		return "", fmt.Errorf("empty channel")
	}
	if strings.Contains(spec, "://") || filepath.IsAbs(spec) {
		return absoluteURL(spec)
	}
	name := strings.Trim(spec, "/")
	if !validName(name) {
		return "", fmt.Errorf("channel %q: not a channel name (name or name/label/LABEL), an http(s):// or file:// URL, or an absolute directory", spec)
	}
	return c.alias() + "/" + name, nil
}

// validName accepts "/"-separated segments of letters, digits and "._+-"
// (but not "." or ".."), what anaconda.org names and labels are made of.
func validName(name string) bool {
	for _, seg := range strings.Split(name, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
		for _, c := range seg {
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.ContainsRune("._+-", c)) {
				return false
			}
		}
	}
	return true
}

// mirror maps a canonical URL to where it is fetched from: the longest
// mirror key that is a whole-segment prefix wins.
func (c *Config) mirror(canonical string) string {
	best := ""
	if c != nil {
		for k := range c.Mirrors {
			if _, ok := underPrefix(canonical, k); ok && len(k) > len(best) {
				best = k
			}
		}
	}
	if best == "" {
		return canonical
	}
	rest, _ := underPrefix(canonical, best)
	if rest == "" {
		return c.Mirrors[best]
	}
	return c.Mirrors[best] + "/" + rest
}

// underPrefix reports whether u is prefix or lies below it, and the rest.
func underPrefix(u, prefix string) (string, bool) {
	rest, ok := strings.CutPrefix(u, prefix)
	if !ok {
		return "", false
	}
	if rest == "" {
		return "", true
	}
	if rest[0] != '/' {
		return "", false
	}
	return rest[1:], true
}

// absoluteURL checks an http(s) or file URL (or an absolute directory,
// made a file URL) and strips trailing slashes.
func absoluteURL(s string) (string, error) {
	if filepath.IsAbs(s) {
		// Escaped, so that a directory named with '#', '?', '%' or
		// spaces stays one path.
		s = fileURL(filepath.ToSlash(filepath.Clean(s)))
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("channel URL %q: %w", s, err)
	}
	switch u.Scheme {
	case "http", "https":
		if u.Host == "" {
			return "", fmt.Errorf("channel URL %q: no host", s)
		}
	case "file":
		if u.Host != "" && u.Host != "localhost" || !strings.HasPrefix(u.Path, "/") || path.Clean(u.Path) == "/" {
			return "", fmt.Errorf("channel URL %q: file URLs need an absolute path below the root (file:///dir)", s)
		}
	default:
		return "", fmt.Errorf("channel URL %q: scheme must be http, https or file", s)
	}
	if u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(s, "?#") {
		return "", fmt.Errorf("channel URL %q: no query or fragment allowed", s)
	}
	canonical := strings.TrimRight(s, "/")
	if u.Scheme == "file" {
		// Spelled from the parsed path, so that every spelling of a
		// directory (file://localhost/d, file:///d/./) is one channel and
		// resolves to itself.
		canonical = fileURL(path.Clean(u.Path))
	}
	// Channels are read with surrounding white space trimmed, so a URL
	// ending in it ("/ /" is "file:/// ") would not name itself again.
	if strings.TrimSpace(canonical) != canonical {
		return "", fmt.Errorf("channel URL %q: a path may not end in white space", s)
	}
	return canonical, nil
}

// fileURL is the file:// URL of an absolute slash-separated path.
func fileURL(p string) string {
	return (&url.URL{Scheme: "file", Path: p}).String()
}
