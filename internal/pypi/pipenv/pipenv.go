// Package pipenv is the pip part of an environment end to end: lock a
// definition's pip lines against the conda packages already locked, and
// install the locked wheels into a prefix, each checked against its
// sha256 whether it comes from the cache or the network.
package pipenv

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/envkit/envkit/internal/conda/lock"
	"github.com/envkit/envkit/internal/netfetch"
	"github.com/envkit/envkit/internal/pypi/index"
	"github.com/envkit/envkit/internal/pypi/metadata"
	"github.com/envkit/envkit/internal/pypi/resolve"
	"github.com/envkit/envkit/internal/spec"
	"github.com/envkit/envkit/internal/wheel"
)

// Lines are the definition's pip lines: the conda file's pip: part, then
// the top-level pip list (installed after it).
func Lines(def *spec.Definition) []spec.Requirement {
	var out []spec.Requirement
	if def.Conda != nil {
		out = append(out, def.Conda.Pip...)
	}
	return append(out, def.Pip...)
}

// PythonVersion is the version of the "python" conda package locked for
// platform.
func PythonVersion(conda []lock.Package, platform string) (string, error) {
	for _, p := range conda {
		if p.Manager == lock.Conda && p.Platform == platform && p.Name == "python" {
			return p.Version, nil
		}
	}
	return "", fmt.Errorf("pip packages need python in the conda environment, and the lock has no python for %s", platform)
}

// Lock resolves the definition's pip lines for platform against the conda
// packages already locked for it. It returns the pip lock entries and the
// resolution (pins and the requirements conda already satisfies). A
// definition without pip lines gives nothing.
func Lock(ctx context.Context, def *spec.Definition, platform string, conda []lock.Package) ([]lock.Package, *resolve.Result, error) {
	lines := Lines(def)
	if len(lines) == 0 {
		return nil, &resolve.Result{}, nil
	}
	in, err := resolve.ParseLines(lines)
	if err != nil {
		return nil, nil, err
	}
	in.EnvDefaults(os.LookupEnv)
	if len(in.Requirements)+len(in.Wheels) == 0 {
		return nil, &resolve.Result{}, nil
	}
	if err := ReadLocalWheels(&in, filepath.Dir(def.Source.Path)); err != nil {
		return nil, nil, err
	}
	python, err := PythonVersion(conda, platform)
	if err != nil {
		return nil, nil, err
	}
	res, err := resolve.Resolve(ctx, in, resolve.Target{PythonVersion: python, Subdir: platform},
		resolve.Options{Provided: resolve.CondaProvided(conda, platform)})
	if netfetch.Unreachable(err) {
		return nil, nil, fmt.Errorf("pip packages for %s: %w\n(an index out of reach can be replaced by a mirror: --index-url in the pip lines, or PIP_INDEX_URL when they name none)", platform, err)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("pip packages for %s: %w", platform, err)
	}
	return resolve.LockPackages(res.Pins, platform), res, nil
}

// ReadLocalWheels reads the METADATA of in's local wheels, whose paths
// are relative to dir (the definition's directory), each checked against
// the digest the definition was read with.
func ReadLocalWheels(in *resolve.Input, dir string) error {
	for i, w := range in.Wheels {
		m, err := localMetadata(filepath.Join(dir, filepath.FromSlash(w.Path)), w.SHA256)
		if err != nil {
			return fmt.Errorf("%s: %s: %w", w.Pos, w.Path, err)
		}
		in.Wheels[i].Metadata = &m
	}
	return nil
}

func localMetadata(file, sha string) (metadata.Metadata, error) {
	if err := index.VerifyFile(file, sha); err != nil {
		return metadata.Metadata{}, fmt.Errorf("the wheel changed while it was read: %w", err)
	}
	f, err := os.Open(file)
	if err != nil {
		return metadata.Metadata{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return metadata.Metadata{}, err
	}
	// Read by its zip directory: a large wheel is not read whole.
	return metadata.FromWheelFile(f, st.Size())
}

// InstallOptions tune Install.
type InstallOptions struct {
	// CacheDir holds downloaded wheels by sha256 ("" uses a temporary
	// directory removed afterwards).
	CacheDir string
	// ModTime is every file's mtime (SOURCE_DATE_EPOCH).
	ModTime time.Time
	// Requested names (normalised) get a REQUESTED file.
	Requested map[string]bool
	// Index is used for fetching (its Client); the URLs come from the lock.
	Index index.Options
	// Dir is the definition's directory (the lock's): a local wheel's
	// path in the lock is relative to it.
	Dir string
	// Compile writes each wheel's .pyc with the prefix's python, as the
	// image's wheel step does, and lists them in its RECORD; a prefix
	// without that python gets none (python writes them on import).
	Compile bool
}

// Prefetch puts every pip wheel of the lock for platform in
// opts.CacheDir, each checked against its sha256. Run it before the conda
// packages are installed and a bad wheel stops the creation before
// anything is written.
func Prefetch(ctx context.Context, pkgs []lock.Package, platform string, opts InstallOptions) error {
	if opts.CacheDir == "" {
		return fmt.Errorf("prefetching pip wheels needs a cache directory")
	}
	_, err := fetchAll(ctx, pkgs, platform, opts.CacheDir, opts.Dir, index.New(opts.Index))
	return err
}

type wheelFile struct {
	pkg  lock.Package
	path string
}

func fetchAll(ctx context.Context, pkgs []lock.Package, platform, cache, dir string, client *index.Client) ([]wheelFile, error) {
	var out []wheelFile
	for _, p := range pkgs {
		if p.Manager != lock.Pip || p.Platform != platform {
			continue
		}
		path, err := fetch(ctx, client, p, cache, dir)
		if err != nil {
			return nil, fmt.Errorf("pip package %s %s: %w", p.Name, p.Version, err)
		}
		out = append(out, wheelFile{p, path})
	}
	return out, nil
}

// Install installs the lock's pip packages for platform into prefix. Every
// wheel is fetched (or found in the cache) and checked against the lock's
// sha256 before any is installed, so a mismatch installs nothing.
func Install(ctx context.Context, pkgs []lock.Package, platform, prefix string, conda []lock.Package, opts InstallOptions) error {
	python, err := PythonVersion(conda, platform)
	if err != nil {
		return err
	}
	cache := opts.CacheDir
	if cache == "" {
		if cache, err = os.MkdirTemp("", "envkit-wheels-"); err != nil {
			return err
		}
		defer os.RemoveAll(cache)
	}
	wheels, err := fetchAll(ctx, pkgs, platform, cache, opts.Dir, index.New(opts.Index))
	if err != nil {
		return err
	}
	major, rest, _ := strings.Cut(python, ".")
	minor, _, _ := strings.Cut(rest, ".")
	interpreter := filepath.Join(prefix, "bin", "python"+major+"."+minor)
	if _, err := os.Stat(interpreter); err != nil {
		opts.Compile = false
	}
	for _, w := range wheels {
		name := path.Base(strings.SplitN(w.pkg.URL, "#", 2)[0])
		// Read in place from the cache: a wheel may be gigabytes.
		inst, err := wheel.Install(w.path, prefix, python, wheel.Options{
			SHA256: w.pkg.Hash.SHA256, ModTime: opts.ModTime, Requested: opts.Requested[w.pkg.Name],
		})
		if err != nil {
			return fmt.Errorf("pip package %s %s (%s): %w", w.pkg.Name, w.pkg.Version, name, err)
		}
		if opts.Compile {
			if err := wheel.CompileInstalled(interpreter, prefix, inst); err != nil {
				return fmt.Errorf("pip package %s %s: %w", w.pkg.Name, w.pkg.Version, err)
			}
			if _, err := wheel.RecordCompiled(prefix, inst); err != nil {
				return fmt.Errorf("pip package %s %s: %w", w.pkg.Name, w.pkg.Version, err)
			}
		}
	}
	return nil
}

// WheelURL is where a locked wheel is read from: its URL, or for a wheel
// file beside the definition (spec.LocalWheelPath) a file:// URL in dir,
// the definition's (the lock's) directory.
func WheelURL(lockURL, dir string) (string, error) {
	rel, ok := spec.LocalWheelPath(lockURL)
	if !ok {
		return lockURL, nil
	}
	if dir == "" {
		return "", fmt.Errorf("%s is a wheel beside the definition, and its directory is not known", rel)
	}
	abs, err := filepath.Abs(filepath.Join(dir, filepath.FromSlash(rel)))
	if err != nil {
		return "", err
	}
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String(), nil
}

// fetch puts the wheel in the cache, named by its sha256, and returns its
// path; a local wheel is copied from dir. A cached file is used only when it matches; the download is
// checked before it enters the cache.
func fetch(ctx context.Context, client *index.Client, p lock.Package, cacheDir, dir string) (string, error) {
	if p.Hash.SHA256 == "" {
		return "", fmt.Errorf("the lock has no sha256")
	}
	cached := filepath.Join(cacheDir, strings.ToLower(p.Hash.SHA256)+".whl")
	if _, err := os.Stat(cached); err == nil {
		if err := index.VerifyFile(cached, p.Hash.SHA256); err == nil {
			return cached, nil
		}
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", err
	}
	src, err := WheelURL(p.URL, dir)
	if err != nil {
		return "", err
	}
	// Streamed to the cache, never whole in memory: a wheel may be large.
	if err := client.Download(ctx, src, p.Hash.SHA256, cached); err != nil {
		return "", err
	}
	return cached, nil
}
