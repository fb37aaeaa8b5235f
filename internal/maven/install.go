package maven

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"github.com/envkit/envkit/internal/spec"
)

// FromSpec gives the definition's root coordinates and repository options.
func FromSpec(s *spec.Spark) ([]Coordinate, Options) {
	if s == nil {
		return nil, Options{}
	}
	roots := make([]Coordinate, len(s.Packages))
	for i, p := range s.Packages {
		roots[i] = Coordinate{p.Group, p.Artifact, p.Version}
	}
	return roots, Options{Repositories: s.Repositories}
}

// Install writes spark-defaults.conf under prefix and, with precache, the
// pinned jars, each checked against its sha256 before any is written.
func Install(ctx context.Context, prefix string, jars []Jar, roots []Coordinate, repositories []string, precache bool, client *http.Client) error {
	r := &resolver{ctx: ctx, http: client}
	if r.http == nil {
		r.http = http.DefaultClient
	}
	var data [][]byte
	if precache {
		for _, j := range jars {
			b, status, err := r.get(j.URL)
			if err != nil {
				return err
			}
			if status != http.StatusOK {
				return fmt.Errorf("%s: %s: HTTP %d", j, j.URL, status)
			}
			sum := sha256.Sum256(b)
			if got := hex.EncodeToString(sum[:]); got != j.SHA256 {
				return fmt.Errorf("%s: %s: sha256 %s, the lock says %s", j, j.URL, got, j.SHA256)
			}
			data = append(data, b)
		}
	}
	conf := filepath.Join(prefix, ConfDir)
	if err := os.MkdirAll(conf, 0o755); err != nil {
		return err
	}
	for i, j := range jars[:len(data)] {
		dir := filepath.Join(prefix, JarDir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, j.Filename()), data[i], 0o644); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(conf, "spark-defaults.conf"), []byte(SparkDefaults(prefix, jars, roots, repositories, precache)), 0o644)
}
