package buildplan

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"sort"
	"strings"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/envkit/envkit/internal/conda/lock"
	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/envkit/envkit/internal/envlock"
	"github.com/envkit/envkit/internal/maven"
	"github.com/envkit/envkit/internal/platform"
	"github.com/envkit/envkit/internal/spec"
	envllb "github.com/envkit/envkit/llb"
)

// LockFile is the lock read beside the definition, in the build context.
const LockFile = "conda-lock.yml"

// ErrNoLock is returned when the build context has no LockFile.
var ErrNoLock = errors.New("no " + LockFile + " in the build context")

// Locked is what a build installs: the pins of every target platform and
// their hash. The zero value is an environment without conda packages.
type Locked struct {
	// Hash is PinsHash of the pins: what was solved, not only what was
	// asked (content_hash), so it keys the image.
	Hash     string
	Packages map[string][]*repodata.Record // subdir -> packages
	Wheels   map[string][]envllb.Wheel     // subdir -> pip packages
	Jars     []maven.Jar                   // precached Spark jars
}

// NewLocked is the Locked of conda packages alone (a solve without a
// lock file), with its hash.
func NewLocked(packages map[string][]*repodata.Record) *Locked {
	return &Locked{Hash: PinsHash(packages, nil, nil), Packages: packages}
}

// ForPlatform is what the build installs for one target platform.
func (l *Locked) ForPlatform(p ocispecs.Platform) (envllb.Locked, error) {
	if l.Packages == nil {
		return envllb.Locked{Jars: l.Jars}, nil
	}
	subdir, err := platform.Subdir(p)
	if err != nil {
		return envllb.Locked{}, err
	}
	pkgs, ok := l.Packages[subdir]
	if !ok {
		return envllb.Locked{}, fmt.Errorf("%s: no packages for %s (%s): lock that platform too (envkit lock --platform %s)", LockFile, subdir, platform.Format(p), subdir)
	}
	return envllb.Locked{Packages: pkgs, Wheels: l.Wheels[subdir], Jars: l.Jars}, nil
}

// SubdirHash is PinsHash of what one platform's image holds (its conda and
// pip pins, and the jars): the image's lock-hash label, so that a pin
// changed for another platform leaves this platform's image as it was.
// Hash, over every target platform, keys the build; with one target the
// two are equal.
func (l *Locked) SubdirHash(subdir string) string {
	if l.Hash == "" || l.Packages == nil {
		return l.Hash
	}
	return PinsHash(map[string][]*repodata.Record{subdir: l.Packages[subdir]}, map[string][]envllb.Wheel{subdir: l.Wheels[subdir]}, l.Jars)
}

// PlatformHash is SubdirHash of the platform's conda subdir.
func (l *Locked) PlatformHash(p ocispecs.Platform) string {
	subdir, err := platform.Subdir(p)
	if err != nil {
		return l.Hash
	}
	return l.SubdirHash(subdir)
}

// LockInputs are the definition's lock inputs, with CONDA_OVERRIDE_* from
// the build arguments (a build sees no client environment).
func LockInputs(def *spec.Definition, opts Options) lock.Inputs {
	return envlock.Inputs(def, opts.Lookup)
}

// ReadLock reads LockFile from fsys and checks that it is current for
// every target platform (its content_hash against the definition's conda,
// pip and Spark inputs), so a stale lock fails the build instead of
// building something the definition no longer says. It is the one reader
// of the lock for a build and for the image key. It returns the zero
// Locked for a definition without a conda environment, and ErrNoLock when
// fsys has no lock.
func ReadLock(fsys fs.FS, def *spec.Definition, opts Options, targets []ocispecs.Platform) (*Locked, error) {
	if !def.HasCondaEnvironment() {
		return &Locked{}, nil
	}
	filename := def.Source.Path
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
	in := LockInputs(def, opts)
	out := &Locked{Packages: map[string][]*repodata.Record{}, Wheels: map[string][]envllb.Wheel{}}
	for _, p := range targets {
		subdir, err := platform.Subdir(p)
		if err != nil {
			return nil, err
		}
		if _, done := out.Packages[subdir]; done {
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
		out.Packages[subdir] = pkgs
		for _, p := range lk.ForPlatform(subdir) {
			if p.Manager == lock.Pip {
				out.Wheels[subdir] = append(out.Wheels[subdir], envllb.Wheel{Name: p.Name, Version: p.Version, URL: p.URL, SHA256: p.Hash.SHA256,
					Depends: slices.Sorted(maps.Keys(p.Dependencies))})
			}
		}
	}
	if def.PrecachesSpark() {
		if out.Jars, err = maven.FromCustom(lk.Metadata.Custom); err != nil {
			return nil, fmt.Errorf("%s: %w", LockFile, err)
		}
	}
	out.Hash = PinsHash(out.Packages, out.Wheels, out.Jars)
	return out, nil
}

// PinsHash is "sha256:<hex>" over the pins of the built platforms, one
// line per conda package (subdir, name, version, build, sha256, url), pip
// package ("pip", subdir, name, version, sha256, url) and Spark jar
// ("jar", coordinate, classifier, sha256, url), sorted. It is the same
// whether the packages came from conda-lock.yml or from a solve in the
// frontend, and comments or sources in the lock file do not change it;
// without pip packages and jars it is the conda-only hash earlier
// versions computed.
func PinsHash(packages map[string][]*repodata.Record, wheels map[string][]envllb.Wheel, jars []maven.Jar) string {
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
