package frontend

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// ImageKey is the registry tag under which an environment's image is kept
// (ENVKIT_IMAGE_CACHE=registry/repo, envkit build --push): what decides the
// image beyond the definition — the lock's content hash and the base
// image's digest — joined with the definition hash. docs/frontend.md
// documents the scheme; the leading version changes when it does.
func ImageKey(definitionHash, lockHash, baseDigest string) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("envkit-image-key/1\ndefinition %s\nlock %s\nbase %s\n", definitionHash, lockHash, baseDigest)))
	return "envkit-" + hex.EncodeToString(sum[:16])
}
