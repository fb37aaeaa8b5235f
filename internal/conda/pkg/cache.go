package pkg

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/envkit/envkit/internal/conda/channel"
	"github.com/envkit/envkit/internal/netfetch"
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

// Cache keeps downloaded archives by content: <Dir>/sha256/<hex>/<file
// name> (<Dir>/md5/<hex>/… for a record with only an md5), so packages of
// the same file name from two channels never meet. A file enters the
// cache only once it matches its digests, and is checked again before it
// is reused.
type Cache struct {
	Dir string
	// Net downloads; netfetch.Default when nil.
	Net *netfetch.Client
	// AllowUnverified lets through a record with neither sha256 nor md5
	// (envkit create --allow-unverified); without it such a record is
	// refused, since nothing could tell its download from another.
	AllowUnverified bool
}

// ErrUnverified is the refusal of a record without checksums.
var ErrUnverified = errors.New("the record has no sha256 and no md5 to verify the download against (pass --allow-unverified to install it anyway)")

// Fetch returns the path of the archive named filename in the cache,
// downloading it from rawURL (http, https or file) when it is not there
// or no longer matches want. size is the record's size, 0 when unknown:
// a download may not exceed it (netfetch.DefaultLimit without one). The
// download goes to a temporary file in the cache while it is hashed, and
// is renamed into place only when it matches; on any failure, including a
// cancelled ctx, nothing of it stays.
func (c *Cache) Fetch(ctx context.Context, rawURL, filename string, want Digests, size int64) (string, error) {
	if filename == "" || strings.ContainsAny(filename, "/\\\x00") || filename == "." || filename == ".." {
		return "", fmt.Errorf("%s: bad package file name %q", rawURL, filename)
	}
	if want.Empty() && !c.AllowUnverified {
		return "", fmt.Errorf("%s: %w", filename, ErrUnverified)
	}
	key, err := c.key(filename, want)
	if err != nil {
		return "", err
	}
	if key != "" {
		if cachedMatches(key, want, size) {
			return key, nil
		}
		os.RemoveAll(filepath.Dir(key)) // damaged or partial: fetched again
	}
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(c.Dir, "."+filename+".part-")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	sha, md := sha256.New(), md5.New()
	n, err := netfetch.Or(c.Net).Download(ctx, netfetch.Request{URL: rawURL, Limit: size}, tmp, sha, md)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	var tooLarge *netfetch.TooLargeError
	if errors.As(err, &tooLarge) && size > 0 {
		err = fmt.Errorf("%w (the record's size)", err)
	}
	if err != nil {
		if netfetch.Unreachable(err) {
			err = fmt.Errorf("%w\n(a channel out of reach can be read from a mirror or a local copy: solve or lock again with %s=CHANNEL=URL, see docs/channels.md)", err, channel.EnvMirrors)
		}
		return "", fmt.Errorf("downloading %s: %w", filename, err)
	}
	if size > 0 && n != size {
		return "", fmt.Errorf("%s: %s is %d bytes, the record says %d", filename, rawURL, n, size)
	}
	got := Digests{SHA256: hex.EncodeToString(sha.Sum(nil)), MD5: hex.EncodeToString(md.Sum(nil))}
	if err := want.Match(filename, got); err != nil {
		return "", err
	}
	if key == "" { // unverified: filed under what arrived, found again by no record without a digest
		key = filepath.Join(c.Dir, "sha256", got.SHA256, filename)
	}
	if err := os.MkdirAll(filepath.Dir(key), 0o755); err != nil {
		return "", err
	}
	if err := os.Rename(tmp.Name(), key); err != nil {
		return "", err
	}
	return key, nil
}

// key is where the archive with digests want lives in the cache, "" when
// want is empty.
func (c *Cache) key(filename string, want Digests) (string, error) {
	algo, sum, n := "sha256", want.SHA256, sha256.Size
	if sum == "" {
		algo, sum, n = "md5", want.MD5, md5.Size
	}
	if sum == "" {
		return "", nil
	}
	if b, err := hex.DecodeString(sum); err != nil || len(b) != n {
		return "", fmt.Errorf("%s: the record's %s %q is not %d hex digits", filename, algo, sum, 2*n)
	}
	return filepath.Join(c.Dir, algo, strings.ToLower(sum), filename), nil
}

// cachedMatches reports whether the cached file is a regular file of the
// record's size (when known) and digests.
func cachedMatches(path string, want Digests, size int64) bool {
	st, err := os.Lstat(path)
	if err != nil || !st.Mode().IsRegular() || size > 0 && st.Size() != size {
		return false
	}
	return VerifyFile(path, want) == nil
}
