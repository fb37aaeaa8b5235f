package pkg

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
)

// Digests are the expected checksums of an archive (hex, either may be
// empty; sha256 is checked when present, md5 too).
type Digests struct {
	SHA256 string
	MD5    string
}

// Empty reports whether there is nothing to check.
func (d Digests) Empty() bool { return d.SHA256 == "" && d.MD5 == "" }

// DigestError is a checksum mismatch.
type DigestError struct {
	Package, Algorithm, Want, Got string
}

func (e *DigestError) Error() string {
	return fmt.Sprintf("%s: %s mismatch: expected %s, got %s", e.Package, e.Algorithm, e.Want, e.Got)
}

// Hasher computes both digests of a stream as it is written to it.
type Hasher struct {
	sha, md io.Writer
	sum     func() (string, string)
	n       int64
}

// NewHasher returns a Hasher.
func NewHasher() *Hasher {
	s, m := sha256.New(), md5.New()
	return &Hasher{sha: s, md: m, sum: func() (string, string) {
		return hex.EncodeToString(s.Sum(nil)), hex.EncodeToString(m.Sum(nil))
	}}
}

func (h *Hasher) Write(p []byte) (int, error) {
	h.sha.Write(p)
	h.md.Write(p)
	h.n += int64(len(p))
	return len(p), nil
}

// Size is the number of bytes hashed.
func (h *Hasher) Size() int64 { return h.n }

// Sums returns the hex sha256 and md5 of what was written.
func (h *Hasher) Sums() Digests {
	s, m := h.sum()
	return Digests{SHA256: s, MD5: m}
}

// Check compares the sums with want, naming pkg in the error.
func (h *Hasher) Check(pkg string, want Digests) error {
	return want.Match(pkg, h.Sums())
}

// Match compares got with the expected digests d (empty ones are not
// checked), naming pkg in the error.
func (d Digests) Match(pkg string, got Digests) error {
	if d.SHA256 != "" && !strings.EqualFold(d.SHA256, got.SHA256) {
		return &DigestError{pkg, "sha256", d.SHA256, got.SHA256}
	}
	if d.MD5 != "" && !strings.EqualFold(d.MD5, got.MD5) {
		return &DigestError{pkg, "md5", d.MD5, got.MD5}
	}
	return nil
}

// VerifyFile hashes file and compares it with want. It is the check made
// before anything of a package is written.
func VerifyFile(file string, want Digests) error {
	if want.Empty() {
		return nil
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	h := NewHasher()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("%s: %w", path.Base(file), err)
	}
	return h.Check(path.Base(file), want)
}
