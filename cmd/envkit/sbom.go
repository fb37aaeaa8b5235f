package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/cobra"

	"github.com/envkit/envkit/internal/buildplan"
	"github.com/envkit/envkit/internal/conda/lock"
	"github.com/envkit/envkit/internal/imagemeta"
	"github.com/envkit/envkit/internal/maven"
	"github.com/envkit/envkit/internal/platform"
	"github.com/envkit/envkit/internal/pypi/index"
	"github.com/envkit/envkit/internal/pypi/pipenv"
	"github.com/envkit/envkit/internal/registry"
	"github.com/envkit/envkit/internal/sbom"
	"github.com/envkit/envkit/internal/spec"
	envllb "github.com/envkit/envkit/llb"
)

func init() { commands = append(commands, newSbomCmd) }

func newSbomCmd() *cobra.Command {
	var (
		format, output, name string
		flags                bomFlags
	)
	cmd := &cobra.Command{
		Use:   "sbom FILE|IMAGE",
		Short: "Print the SBOM of an environment from its lock or its image: SPDX 2.3 or CycloneDX 1.5 JSON",
		Long: `sbom writes the software bill of materials of one platform of an environment,
from the definition and the conda-lock.yml beside it, as a build reads them
(a stale lock is an error): one package per conda record, pip wheel and
Spark jar, and the base image, with purls, checksums, download locations
(credentials removed), declared licences and dependency edges, naming the
definition hash and the lock hash (docs/sbom.md). The lock holds no
licences: each conda package's comes from its channel's repodata (read as
envkit lock reads it, through the repodata cache), each wheel's from its
METADATA (ranges of the remote wheel), each jar's from its POM, unless
--lock-only.

The same lock (and the same licences in the channels) gives the same bytes:
the creation time is SOURCE_DATE_EPOCH (default 0). --platform is a conda subdir; the default is the first the
definition locks.

IMAGE (HOST/PATH:TAG or HOST/PATH@sha256:…) is an image envkit built (an
environment envkit push stored is read as its definition and lock): the
document is made from its labels (definition hash, lock hash, envkit
version, base), its creation time and the files of envkit's layers
(conda-meta records, wheels' METADATA, Spark jars), and equals envkit sbom
--lock-only of its definition and lock when both use --lock-only and
--name is the definition's name, except for what the image does not hold:
the wheels' archive sha256 and URL, the jars' URLs, the edges between
wheels. Without --lock-only the licences are those the packages declare in
the image (conda's info/index.json, the wheels' METADATA). --platform
defaults to linux/<this machine's arch> for a multi-platform image.`,
		Example: `  envkit sbom environment.yml > sbom.spdx.json
  envkit sbom --format cyclonedx --platform linux-aarch64 -o bom.json environment.yml
  envkit sbom --name sklearn 127.0.0.1:5000/images/sklearn@sha256:…`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var write func(*sbom.BOM) ([]byte, error)
			switch format {
			case "spdx":
				write = (*sbom.BOM).SPDX
			case "cyclonedx":
				write = (*sbom.BOM).CycloneDX
			default:
				return usagef("--format %q: want spdx or cyclonedx", format)
			}
			var b *sbom.BOM
			var err error
			if _, statErr := os.Stat(args[0]); statErr != nil && registry.LooksLikeRef(args[0]) {
				b, err = imageBOM(cmd.Context(), args[0], name, flags)
				if errors.Is(err, registry.ErrEnvironment) {
					b, err = pulledBOM(cmd, args[0], flags)
				}
			} else {
				b, err = loadBOM(cmd, args[0], flags)
			}
			if err != nil {
				return err
			}
			data, err := write(b)
			if err != nil {
				return err
			}
			if output == "" {
				_, err = cmd.OutOrStdout().Write(data)
				return err
			}
			return writeFileAtomic(output, data)
		},
	}
	cmd.Flags().StringVar(&format, "format", "spdx", "spdx (SPDX 2.3 JSON) or cyclonedx (CycloneDX 1.5 JSON)")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to this file (atomically) instead of standard output")
	cmd.Flags().StringVar(&name, "name", "", "IMAGE: the environment's name in the document (default: the repository's last part)")
	flags.add(cmd)
	return cmd
}

// pulledBOM is bomOf the environment ref (envkit push) pulled.
func pulledBOM(cmd *cobra.Command, ref string, f bomFlags) (*sbom.BOM, error) {
	src, err := openEnvironment(cmd.Context(), cmd, ref)
	if err != nil {
		return nil, err
	}
	defer src.close()
	return bomOf(cmd.Context(), src.def, f)
}

// imageBOM is the BOM of the image ref for one platform (a conda subdir,
// "" for this machine's), read from its labels and envkit's layers
// (sbom.FromImage), named name ("" for the repository's last part).
func imageBOM(ctx context.Context, ref, name string, f bomFlags) (*sbom.BOM, error) {
	if f.baseImage != "" {
		return nil, usagef("--base-image: an image names its base in its labels")
	}
	oci := ocispecs.Platform{OS: "linux", Architecture: runtime.GOARCH}
	if f.subdir != "" {
		p, err := platform.FromSubdir(f.subdir)
		if err != nil {
			return nil, usagef("--platform: %v", err)
		}
		oci = p.OCI()
	}
	if name == "" {
		repo, _, _ := strings.Cut(ref, "@")
		if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
			repo = repo[:i] // the tag
		}
		name = path.Base(repo)
	}
	client, err := registry.NewClient()
	if err != nil {
		return nil, err
	}
	img, err := client.ReadImageFiles(ctx, ref, path.Join(oci.OS, oci.Architecture, oci.Variant), sbom.ImageFileWanted)
	if err != nil {
		return nil, err
	}
	env, err := sbom.FromImage(name, img.Config, img.Files, img.SHA256, img.CreatedBy[imagemeta.SparkLayer], f.lockOnly)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	return sbom.New(env)
}

// bomFlags are the flags of the commands that read a BOM (bomOf).
type bomFlags struct {
	subdir, baseImage string
	lockOnly          bool
}

func (f *bomFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.subdir, "platform", "", "conda subdir to describe (linux-64, linux-aarch64, …); default: the definition's first")
	cmd.Flags().StringVar(&f.baseImage, "base-image", "", "base image for a definition that names none (default $ENVKIT_BASE_IMAGE, else Debian bookworm-slim)")
	cmd.Flags().BoolVar(&f.lockOnly, "lock-only", false, "read no channel, wheel or POM: licences are NOASSERTION (the lock holds none); IMAGE: leave out the licences the image declares")
}

// loadBOM is bomOf the definition at path.
func loadBOM(cmd *cobra.Command, path string, f bomFlags) (*sbom.BOM, error) {
	def, err := loadDefinition(cmd, path)
	if err != nil {
		return nil, err
	}
	return bomOf(cmd.Context(), def, f)
}

// bomOf is the BOM of one platform (a conda subdir, "" for the
// definition's first) of def, from the lock beside it as a build reads it,
// with the build arguments a build would take from this environment
// (SOURCE_DATE_EPOCH, CONDA_OVERRIDE_*, …), and unless lockOnly the
// licences the lock does not hold (addLicenses).
func bomOf(ctx context.Context, def *spec.Definition, f bomFlags) (*sbom.BOM, error) {
	subdir := f.subdir
	args, err := parseBuildArgs(nil, os.Getenv, os.Environ())
	if err != nil {
		return nil, err
	}
	if b := baseOverride(f.baseImage); b != "" {
		args[buildplan.ArgBaseImage] = b
	}
	opts, err := buildplan.ParseOptions(args)
	if err != nil {
		return nil, err
	}
	if subdir == "" {
		subdirs, err := buildplan.Subdirs(def)
		if err != nil {
			return nil, err
		}
		subdir = subdirs[0]
	}
	p, err := platform.FromSubdir(subdir)
	if err != nil {
		return nil, usagef("--platform: %v", err)
	}
	path := def.Source.Path
	locked, err := buildplan.ReadLock(os.DirFS(filepath.Dir(path)), def, opts, []ocispecs.Platform{p.OCI()})
	if errors.Is(err, buildplan.ErrNoLock) {
		return nil, fmt.Errorf("%s: no %s beside it: run envkit lock %s", path, buildplan.LockFile, path)
	}
	if err != nil {
		return nil, err
	}
	env, err := sbom.ForBuild(def, opts, locked, subdir, version)
	if err != nil {
		return nil, err
	}
	if len(env.Wheels) > 0 {
		// The pip packages' dependencies, which buildplan.Locked does not keep.
		lk, err := lock.ReadFile(filepath.Join(filepath.Dir(path), buildplan.LockFile))
		if err != nil {
			return nil, err
		}
		env.WheelDepends = sbom.PipDepends(lk, subdir)
	}
	if !f.lockOnly {
		if err := addLicenses(ctx, def, opts, &env); err != nil {
			return nil, err
		}
	}
	return sbom.New(env)
}

// addLicenses gives env's conda packages the licences their channels'
// repodata declare (read as envkit lock reads it, through the repodata
// cache), its wheels those of their METADATA and its jars those of their
// POMs: the lock holds none.
func addLicenses(ctx context.Context, def *spec.Definition, opts buildplan.Options, env *sbom.Environment) error {
	if len(env.Packages) > 0 {
		names := make([]string, len(env.Packages))
		for i, r := range env.Packages {
			names[i] = r.Name
		}
		_, u, err := loadUniverse(ctx, buildplan.LockInputs(def, opts).Channels, env.Subdir, names, nil)
		if err != nil {
			return fmt.Errorf("licences from the channels (--lock-only reads none): %w", err)
		}
		env.Packages = sbom.WithLicenses(env.Packages, u.Records)
	}
	if len(env.Wheels) > 0 {
		var err error
		if env.WheelLicenses, err = wheelLicenses(ctx, env.Wheels, filepath.Dir(def.Source.Path)); err != nil {
			return err
		}
	}
	if len(env.Jars) > 0 {
		_, mo := maven.FromSpec(def.Spark)
		var err error
		if env.JarLicenses, err = maven.Licenses(ctx, env.Jars, mo); err != nil {
			return fmt.Errorf("licences of the Spark jars (--lock-only reads none): %w", err)
		}
	}
	return nil
}

// wheelLicenses are the licences the wheels' METADATA declare, read as
// the pip resolver reads metadata (ranges of the remote wheel, checked
// against the lock's sha256 when it comes whole); a wheel file beside the
// definition is read in dir.
func wheelLicenses(ctx context.Context, wheels []envllb.Wheel, dir string) (map[string]string, error) {
	client := index.New(index.Options{})
	out := map[string]string{}
	for _, w := range wheels {
		u, _, _ := strings.Cut(w.URL, "#")
		src, err := pipenv.WheelURL(u, dir)
		if err != nil {
			return nil, err
		}
		m, err := client.Metadata(ctx, index.File{Filename: path.Base(u), URL: src, SHA256: w.SHA256})
		if err != nil {
			return nil, fmt.Errorf("licence of pip package %s %s (--lock-only reads none): %s", w.Name, w.Version, strings.ReplaceAll(err.Error(), w.URL, sbom.RedactURL(w.URL)))
		}
		out[w.Name] = m.License
	}
	return out, nil
}
