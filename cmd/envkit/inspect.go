package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/containerd/platforms"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/spf13/cobra"

	"github.com/envkit/envkit/internal/buildplan"
	"github.com/envkit/envkit/internal/registry"
)

func init() { commands = append(commands, newInspectCmd) }

// resolveTimeout bounds the base image lookup, which may go to a registry
// out of reach.
const resolveTimeout = 30 * time.Second

// inspection is what inspect reports.
type inspection struct {
	Definition string `json:"definition"`
	// Version is set for a registered version.
	Version    int    `json:"version,omitempty"`
	Hash       string `json:"hash"`
	LockHash   string `json:"lock_hash,omitempty"`
	BaseImage  string `json:"base_image,omitempty"`
	BaseDigest string `json:"base_digest,omitempty"`
	// ImageKey is the tag the image is kept under; "" when it cannot be
	// known (Dockerfile base, no lock, base not resolved).
	ImageKey string `json:"image_key,omitempty"`
	// Notes say why something is missing.
	Notes    []string        `json:"notes,omitempty"`
	Image    *registry.Image `json:"image,omitempty"`
	Packages []lockedPackage `json:"packages"`
}

type lockedPackage struct {
	Platform string `json:"platform"`
	Manager  string `json:"manager"`
	Name     string `json:"name"`
	Version  string `json:"version"`
	Build    string `json:"build,omitempty"`
	URL      string `json:"url,omitempty"`
}

func newInspectCmd() *cobra.Command {
	var (
		images, platform, baseImage string
		mirrorFlags, buildArgFlags  []string
		readLayers, asJSON          bool
	)
	cmd := &cobra.Command{
		Use:   "inspect FILE|REPO/NAME[:VERSION]|curated/NAME",
		Short: "Show a definition's hash, lock, base digest, and the image built for it with its per-layer packages",
		Long: `inspect shows what envkit knows of an environment: its definition hash, its
lock (hash and packages), the digest of its base image, and the image key
(docs/frontend.md) under which a build keeps its image. With --images REPO it
looks REPO:<key> up and lists the image's layers with their sizes and the
conda packages each holds — from the layers' history, or with --read-layers
from the conda-meta records inside each layer (every layer is downloaded).

The image key needs the lock (conda-lock.yml beside the definition) when the
environment has conda packages, and a base image reference (a Dockerfile
base has no single digest): without them inspect says why there is none.
When the builder reaches a registry through a mirror (buildkitd's
[registry."docker.io"] mirrors), give inspect the same with --mirror, so the
base digest, hence the key, is the one the build saw.`,
		Example: `  envkit inspect examples/minimal/environment.yml
  envkit inspect --images localhost:5000/images localhost:5000/envs/sklearn:2
  envkit inspect --images localhost:5000/images --read-layers --json environment.yml
  envkit inspect --mirror docker.io=127.0.0.1:5000 --images 127.0.0.1:5000/images environment.yml`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			mirrors := map[string]string{}
			for _, m := range mirrorFlags {
				from, to, ok := strings.Cut(m, "=")
				if !ok || from == "" || to == "" {
					return usagef("--mirror %q: want REGISTRY=HOST, e.g. docker.io=127.0.0.1:5000", m)
				}
				mirrors[from] = to
			}
			src, err := openEnvironment(cmd.Context(), cmd, args[0])
			if err != nil {
				return err
			}
			defer src.close()
			def := src.def
			buildArgs, err := parseBuildArgs(buildArgFlags, os.Getenv, os.Environ())
			if err != nil {
				return err
			}
			if baseImage != "" {
				buildArgs[buildplan.ArgBaseImage] = baseImage
			}
			opts, err := buildplan.ParseOptions(buildArgs)
			if err != nil {
				return err
			}
			base := buildplan.BaseImage(def, opts.BaseImage)
			out := inspection{Definition: def.Source.Path, BaseImage: base}
			if src.ref != "" {
				out.Definition, out.Version = src.ref, src.version.Number
			}
			if out.Hash, err = buildplan.DefinitionHash(def, opts.BaseImage); err != nil {
				return err
			}
			if src.lock != nil {
				for _, p := range src.lock.Packages {
					lp := lockedPackage{Platform: p.Platform, Manager: p.Manager, Name: p.Name, Version: p.Version, Build: p.Build, URL: p.URL}
					if lp.Build == "" && p.Manager == "conda" {
						if rec, err := p.Record(); err == nil {
							lp.Build = rec.Build
						}
					}
					out.Packages = append(out.Packages, lp)
				}
			}
			if platform == "" {
				platform = "linux/" + runtime.GOARCH
				if len(def.Platforms) > 0 {
					platform = def.Platforms[0]
				}
			}
			var requested []ocispecs.Platform
			if cmd.Flags().Changed("platform") {
				p, err := platforms.Parse(platform)
				if err != nil {
					return usagef("--platform %s: %v", platform, err)
				}
				requested = []ocispecs.Platform{platforms.Normalize(p)} // as envkit build and dockerui read --platform
			}
			targets, err := buildplan.Targets(def, requested, ocispecs.Platform{OS: "linux", Architecture: runtime.GOARCH})
			if err != nil {
				return err
			}

			client, err := registry.NewClient()
			if err != nil {
				return err
			}
			resolved := false
			resolve := func(ctx context.Context, image string, _ ocispecs.Platform) (string, error) {
				resolved = true
				ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
				defer cancel()
				return client.ResolveDigest(ctx, image, mirrors)
			}
			// The key a build computes: the same plan, the lock beside the
			// definition, the base digest through the given mirrors.
			k, err := buildplan.KeyOf(cmd.Context(), os.DirFS(filepath.Dir(def.Source.Path)), def, opts, targets, resolve)
			switch {
			case err != nil:
				out.Notes = append(out.Notes, "no image key: "+err.Error())
			case k.NoKey != "":
				out.Notes = append(out.Notes, "no image key: "+k.NoKey)
			}
			out.LockHash, out.BaseDigest, out.ImageKey = k.LockHash, k.BaseDigest, k.Tag
			if !resolved && base != "" {
				if out.BaseDigest, err = resolve(cmd.Context(), base, targets[0]); err != nil {
					out.Notes = append(out.Notes, "base image digest unresolved: "+err.Error())
				}
			}
			if images != "" && out.ImageKey != "" {
				ref := strings.TrimSuffix(images, "/") + ":" + out.ImageKey
				out.Image, err = client.InspectImage(cmd.Context(), ref, platform, readLayers)
				switch {
				case errors.Is(err, registry.ErrImageNotFound):
					out.Notes = append(out.Notes, "no image built for this definition: "+ref+" does not exist")
				case err != nil:
					return err
				}
			}
			if asJSON {
				if out.Packages == nil {
					out.Packages = []lockedPackage{}
				}
				return writeJSON(cmd.OutOrStdout(), out)
			}
			return writeInspection(cmd.OutOrStdout(), &out)
		},
	}
	cmd.Flags().StringVar(&images, "images", "", "image repository (HOST/PATH) to look the built image up in")
	cmd.Flags().StringVar(&platform, "platform", "", "platform of a multi-platform image (default: the definition's first, else linux/<this machine's arch>)")
	cmd.Flags().StringArrayVar(&mirrorFlags, "mirror", nil, "resolve the base image of REGISTRY on HOST instead (REGISTRY=HOST, as buildkitd's registry mirrors; repeatable)")
	cmd.Flags().BoolVar(&readLayers, "read-layers", false, "read the conda packages from each layer's conda-meta records instead of its history")
	cmd.Flags().StringVar(&baseImage, "base-image", "", "base image for definitions that name none (enters the hash)")
	cmd.Flags().StringArrayVar(&buildArgFlags, "build-arg", nil, "build argument KEY=VALUE as given to envkit build (ENVKIT_PACKAGE_LAYERS enters the key)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the inspection as JSON")
	return cmd
}

func writeInspection(w io.Writer, in *inspection) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s\t%s\n", k, v)
		}
	}
	def := in.Definition
	if in.Version > 0 {
		def = fmt.Sprintf("%s (version %d)", def, in.Version)
	}
	row("definition", def)
	row("hash", in.Hash)
	lockText := "none"
	if in.LockHash != "" {
		lockText = fmt.Sprintf("%s (%d packages)", in.LockHash, len(in.Packages))
	}
	row("lock", lockText)
	base := in.BaseImage
	if in.BaseDigest != "" {
		base += " (" + in.BaseDigest + ")"
	}
	row("base image", base)
	row("image key", in.ImageKey)
	if in.Image != nil {
		row("image", fmt.Sprintf("%s@%s (%s %s)", in.Image.Ref, in.Image.Digest, in.Image.Platform, in.Image.ManifestDigest))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, n := range in.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	if in.Image != nil {
		fmt.Fprintln(w, "\nlayers:")
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  #\tDIGEST\tSIZE\tCONTENT")
		var total int64
		for i, l := range in.Image.Layers {
			total += l.Size
			what := strings.Join(l.Packages, " ")
			if what == "" {
				what = shorten(l.CreatedBy, 70)
			}
			fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\n", i+1, shorten(l.Digest, 19), byteSize(l.Size), what)
		}
		fmt.Fprintf(tw, "  \ttotal\t%s\t%d layers\n", byteSize(total), len(in.Image.Layers))
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(in.Packages) > 0 {
		fmt.Fprintln(w, "\nlocked packages:")
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  PLATFORM\tMANAGER\tNAME\tVERSION\tBUILD")
		for _, p := range in.Packages {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", p.Platform, p.Manager, p.Name, p.Version, p.Build)
		}
		return tw.Flush()
	}
	return nil
}

func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

// byteSize prints a size in the largest unit under 1024 (KiB, MiB, GiB).
func byteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
