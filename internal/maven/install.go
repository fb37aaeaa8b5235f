package maven

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"github.com/envkit/envkit/internal/netfetch"
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
// pinned jars, each streamed to a temporary file and checked against its
// sha256 before any takes its name.
func Install(ctx context.Context, prefix string, jars []Jar, roots []Coordinate, repositories []string, precache bool, client *netfetch.Client) error {
	if precache {
		if err := installJars(ctx, filepath.Join(prefix, JarDir), jars, netfetch.Or(client)); err != nil {
			return err
		}
	}
	conf := filepath.Join(prefix, ConfDir)
	if err := os.MkdirAll(conf, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(conf, "spark-defaults.conf"), []byte(SparkDefaults(prefix, jars, roots, repositories, precache)), 0o644)
}

// installJars downloads every jar into dir; on failure nothing of them
// stays, nor the directories made for them.
func installJars(ctx context.Context, dir string, jars []Jar, client *netfetch.Client) (err error) {
	made := "" // the topmost directory MkdirAll makes
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); err == nil || filepath.Dir(d) == d {
			break
		}
		made = d
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var parts []string
	defer func() {
		for _, p := range parts {
			os.Remove(p) // a no-op after the rename
		}
		if err != nil && made != "" {
			os.RemoveAll(made)
		}
	}()
	for _, j := range jars {
		f, err := os.CreateTemp(dir, "."+j.Filename()+".part-")
		if err != nil {
			return err
		}
		parts = append(parts, f.Name())
		h := sha256.New()
		_, err = client.Download(ctx, netfetch.Request{URL: j.URL}, f, h)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("%s: %w", j, err)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != j.SHA256 {
			return fmt.Errorf("%s: %s: sha256 %s, the lock says %s", j, j.URL, got, j.SHA256)
		}
	}
	for i, j := range jars {
		if err := os.Rename(parts[i], filepath.Join(dir, j.Filename())); err != nil {
			return err
		}
	}
	return nil
}
