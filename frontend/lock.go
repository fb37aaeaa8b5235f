package frontend

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/envkit/envkit/internal/conda/lock"
	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/envkit/envkit/internal/envlock"
	"github.com/envkit/envkit/internal/maven"
	"github.com/envkit/envkit/internal/pypi/pipenv"
	"github.com/envkit/envkit/internal/spec"
	envllb "github.com/envkit/envkit/llb"
)

// LockFile is the lock read beside the definition, in the build context.
const LockFile = "conda-lock.yml"

// locked is the environment's lock: its hash and its packages per conda
// subdir. The zero value is an environment without conda packages.
type locked struct {
	// hash is pinsHash of the pins: what was solved, not only what was
	// asked (content_hash), so it keys the image.
	hash     string
	packages map[string][]*repodata.Record // subdir -> packages
	wheels   map[string][]envllb.Wheel     // subdir -> pip packages
	jars     []maven.Jar                   // precached Spark jars
}

func (l *locked) forPlatform(p ocispecs.Platform) (envllb.Locked, error) {
	if l.packages == nil {
		return envllb.Locked{Jars: l.jars}, nil
	}
	subdir, err := condaSubdir(p)
	if err != nil {
		return envllb.Locked{}, err
	}
	pkgs, ok := l.packages[subdir]
	if !ok {
		return envllb.Locked{}, fmt.Errorf("%s: no packages for %s (%s/%s): lock that platform too (envkit lock --platform %s)", LockFile, subdir, p.OS, p.Architecture, subdir)
	}
	return envllb.Locked{Packages: pkgs, Wheels: l.wheels[subdir], Jars: l.jars}, nil
}

// lockedPackages reads the lock beside the definition and checks that it
// is current for every target platform. Without a lock, the frontend
// solves the conda part; pip packages and precached Spark packages need
// the lock.
func (b *build) lockedPackages(ctx context.Context, def *spec.Definition) (*locked, error) {
	if !hasCondaPackages(def) {
		return &locked{}, nil
	}
	in := lockInputs(def, b.bc.BuildArgs)
	out, err := readLock(b.fsys, b.filename, def, in, b.targets())
	if errors.Is(err, ErrNoLock) {
		if err := b.needsLock(def); err != nil {
			return nil, err
		}
		return b.solveInFrontend(ctx, def, in)
	}
	return out, err
}

// hasCondaPackages says whether envkit installs a conda environment for
// def (a user-managed python has none).
func hasCondaPackages(def *spec.Definition) bool {
	return def.Conda != nil && !def.Python.UserManaged && len(def.Conda.Dependencies) > 0
}

// ErrNoLock is returned when the build context has no conda-lock.yml.
var ErrNoLock = errors.New("no " + LockFile + " in the build context")

// readLock reads LockFile from fsys and checks that it is current for
// every target platform (its content_hash against the definition's conda,
// pip and Spark inputs), so a stale lock fails the build instead of
// building something the definition no longer says. filename is the
// definition's, for messages. It is the one reader of the lock for both
// the build and the image key (LockHash).
func readLock(fsys fs.FS, filename string, def *spec.Definition, in lock.Inputs, targets []ocispecs.Platform) (*locked, error) {
	data, err := fs.ReadFile(fsys, LockFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNoLock
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", LockFile, err)
	}
	lk, err := lock.Read(LockFile, data)
	if err != nil {
		return nil, err
	}
	out := &locked{packages: map[string][]*repodata.Record{}, wheels: map[string][]envllb.Wheel{}}
	for _, p := range targets {
		subdir, err := condaSubdir(p)
		if err != nil {
			return nil, err
		}
		if _, done := out.packages[subdir]; done {
			continue
		}
		got, ok := lk.Metadata.ContentHash[subdir]
		if !ok {
			return nil, fmt.Errorf("%s: not locked for %s (platforms: %s): run envkit lock --platform %s %s", LockFile, subdir, strings.Join(lk.Metadata.Platforms, ", "), subdir, filename)
		}
		if want := lock.ContentHash(in, subdir); got != want {
			return nil, fmt.Errorf("%s: stale for %s: its content_hash %s does not match the conda part of %s (%s): run envkit lock %s", LockFile, subdir, got, filename, want, filename)
		}
		records, err := lk.Records(subdir)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", LockFile, err)
		}
		pkgs := make([]*repodata.Record, len(records))
		for i := range records {
			pkgs[i] = &records[i]
		}
		out.packages[subdir] = pkgs
		for _, p := range lk.ForPlatform(subdir) {
			if p.Manager == lock.Pip {
				out.wheels[subdir] = append(out.wheels[subdir], envllb.Wheel{Name: p.Name, Version: p.Version, URL: p.URL, SHA256: p.Hash.SHA256})
			}
		}
	}
	if def.Spark != nil && def.Spark.Precache && len(def.Spark.Packages) > 0 {
		if out.jars, err = maven.FromCustom(lk.Metadata.Custom); err != nil {
			return nil, fmt.Errorf("%s: %w", LockFile, err)
		}
	}
	out.hash = pinsHash(out.packages, out.wheels, out.jars)
	return out, nil
}

// needsLock refuses, at their line, the parts only a lock can pin: the
// frontend has no network to resolve PyPI or Maven repositories.
func (b *build) needsLock(def *spec.Definition) error {
	var problems spec.ErrorList
	if lines := pipenv.Lines(def); len(lines) > 0 {
		problems = append(problems, &spec.Error{Pos: lines[0].Pos, Msg: fmt.Sprintf(
			"pip packages need %s beside the definition (the frontend does not resolve PyPI): run envkit lock %s and build with the lock in the context", LockFile, b.filename)})
	}
	if def.Spark != nil && def.Spark.Precache && len(def.Spark.Packages) > 0 {
		problems = append(problems, &spec.Error{Pos: def.Spark.Pos, Msg: fmt.Sprintf(
			"precached Spark packages need %s beside the definition (the frontend does not resolve Maven repositories): run envkit lock %s and build with the lock in the context", LockFile, b.filename)})
	}
	if len(problems) > 0 {
		return problems
	}
	return nil
}

// packagesHash is pinsHash of conda packages alone.
func packagesHash(packages map[string][]*repodata.Record) string {
	return pinsHash(packages, nil, nil)
}

// pinsHash is "sha256:<hex>" over the pins of the built platforms, one
// line per conda package (subdir, name, version, build, sha256, url), pip
// package ("pip", subdir, name, version, sha256, url) and Spark jar
// ("jar", coordinate, classifier, sha256, url), sorted. It is the same
// whether the packages came from conda-lock.yml or from a solve in the
// frontend, and comments or sources in the lock file do not change it;
// without pip packages and jars it is the conda-only hash earlier
// versions computed.
func pinsHash(packages map[string][]*repodata.Record, wheels map[string][]envllb.Wheel, jars []maven.Jar) string {
	var lines []string
	for subdir, pkgs := range packages {
		for _, p := range pkgs {
			lines = append(lines, strings.Join([]string{subdir, p.Name, p.Version, p.Build, p.SHA256, p.URL}, " "))
		}
	}
	for subdir, ws := range wheels {
		for _, w := range ws {
			lines = append(lines, strings.Join([]string{"pip", subdir, w.Name, w.Version, w.SHA256, w.URL}, " "))
		}
	}
	for _, j := range jars {
		lines = append(lines, strings.Join([]string{"jar", j.Coordinate.String(), j.Classifier, j.SHA256, j.URL}, " "))
	}
	sort.Strings(lines)
	sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// lockInputs are the definition's lock inputs with CONDA_OVERRIDE_* from
// build arguments (the frontend sees no client environment).
func lockInputs(def *spec.Definition, buildArgs map[string]string) lock.Inputs {
	return envlock.Inputs(def, func(k string) (string, bool) {
		v, ok := buildArgs[k]
		return v, ok
	})
}

// targets are the platforms the build makes.
func (b *build) targets() []ocispecs.Platform {
	if len(b.bc.TargetPlatforms) > 0 {
		return b.bc.TargetPlatforms
	}
	return []ocispecs.Platform{b.platform(nil)}
}
