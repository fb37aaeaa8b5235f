package pkg

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// EnvPkgsDir overrides the package cache directory.
const EnvPkgsDir = "ENVKIT_PKGS_DIR"

// DefaultCacheDir is $ENVKIT_PKGS_DIR, else ~/.cache/envkit/pkgs.
func DefaultCacheDir(getenv func(string) string) (string, error) {
	if d := getenv(EnvPkgsDir); d != "" {
		return d, nil
	}
	home, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, "envkit", "pkgs"), nil
}

// Cache keeps downloaded archives, each verified before it enters the
// cache: a file in the cache is complete and matches its digests.
type Cache struct {
	Dir string
	// HTTP fetches http(s) URLs; http.DefaultClient when nil.
	HTTP *http.Client
}

// Fetch returns the path of the archive named filename in the cache,
// downloading it from rawURL (http, https or file) when it is not there or
// no longer matches want. The download goes to a temporary file in the
// cache while it is hashed, and is renamed into place only when it
// matches.
func (c *Cache) Fetch(ctx context.Context, rawURL, filename string, want Digests) (string, error) {
	if filename == "" || strings.ContainsAny(filename, "/\\") {
		return "", fmt.Errorf("%s: bad package file name %q", rawURL, filename)
	}
	dest := filepath.Join(c.Dir, filename)
	if _, err := os.Stat(dest); err == nil && (want.Empty() || VerifyFile(dest, want) == nil) {
		return dest, nil
	}
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return "", err
	}
	body, err := c.open(ctx, rawURL)
	if err != nil {
		return "", err
	}
	defer body.Close()
	tmp, err := os.CreateTemp(c.Dir, "."+filename+".part-")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	h := NewHasher()
	if _, err := io.Copy(io.MultiWriter(tmp, h), body); err != nil {
		tmp.Close()
		return "", fmt.Errorf("downloading %s: %w", rawURL, err)
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if err := h.Check(filename, want); err != nil {
		return "", err
	}
	if err := os.Rename(tmp.Name(), dest); err != nil {
		return "", err
	}
	return dest, nil
}

func (c *Cache) open(ctx context.Context, rawURL string) (io.ReadCloser, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	switch u.Scheme {
	case "file":
		return os.Open(u.Path)
	case "http", "https":
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
		if err != nil {
			return nil, err
		}
		client := c.HTTP
		if client == nil {
			client = http.DefaultClient
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return nil, fmt.Errorf("downloading %s: %s", rawURL, resp.Status)
		}
		return resp.Body, nil
	}
	return nil, fmt.Errorf("%s: unsupported URL scheme %q", rawURL, u.Scheme)
}
