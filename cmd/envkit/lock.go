package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"

	"github.com/envkit/envkit/internal/conda/lock"
	"github.com/envkit/envkit/internal/conda/solve"
	"github.com/envkit/envkit/internal/conda/virtual"
	"github.com/envkit/envkit/internal/spec"
)

func init() { commands = append(commands, newLockCmd) }

func newLockCmd() *cobra.Command {
	var (
		out       string
		platforms []string
	)
	cmd := &cobra.Command{
		Use:   "lock FILE [-o conda-lock.yml] [--platform SUBDIR]...",
		Short: "Solve the conda part of a definition and write a conda-lock file",
		Long: `lock reads an environment definition in any supported format, solves its
conda dependencies for each platform (default: the definition's platforms,
else linux-64) and writes a conda-lock v1 file, by default conda-lock.yml
beside the definition. A lock whose content hash still matches the definition
is left untouched; a new lock replaces the old one atomically.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			file := args[0]
			def, err := spec.Load(file)
			if err != nil {
				return err
			}
			if def.Conda == nil {
				return fmt.Errorf("%s: no conda environment to lock", file)
			}
			if out == "" {
				out = filepath.Join(filepath.Dir(file), "conda-lock.yml")
			}
			if len(platforms) == 0 {
				if platforms, err = subdirsOf(def.Platforms); err != nil {
					return fmt.Errorf("%s: %w", file, err)
				}
			}
			channels := def.Conda.ChannelNames()
			if len(channels) == 0 {
				channels = []string{defaultChannel}
			}
			in := lock.Inputs{
				Channels:         channels,
				Specs:            spec.Specs(def.Conda.Dependencies),
				PipSpecs:         spec.Specs(def.Conda.Pip),
				VirtualOverrides: virtual.Overrides(os.LookupEnv),
			}
			if lockIsCurrent(out, in, platforms) {
				fmt.Fprintf(cmd.ErrOrStderr(), "%s is up to date\n", out)
				return nil
			}
			source, err := filepath.Rel(filepath.Dir(out), file)
			if err != nil {
				source = file
			}
			l := &lock.Lock{Metadata: lock.Metadata{
				ContentHash: map[string]string{},
				Platforms:   platforms,
				Sources:     []string{filepath.ToSlash(source)},
			}}
			for _, c := range channels {
				l.Metadata.Channels = append(l.Metadata.Channels, lock.Channel{URL: c})
			}
			for _, platform := range platforms {
				_, ix, err := loadIndex(cmd.Context(), channels, platform)
				if err != nil {
					return err
				}
				recs, _, err := solve.Solve(ix, in.Specs, solve.Options{Platform: platform})
				if err != nil {
					return fmt.Errorf("%s (%s): %w", file, platform, err)
				}
				l.Packages = append(l.Packages, lock.FromRecords(platform, recs)...)
				l.Metadata.ContentHash[platform] = lock.ContentHash(in, platform)
			}
			l.Sort()
			if _, err := l.WriteFile(out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s (%d packages)\n", out, len(l.Packages))
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "lock file to write (default: conda-lock.yml beside FILE)")
	cmd.Flags().StringArrayVar(&platforms, "platform", nil, "platform subdir to lock for (repeatable)")
	return cmd
}

// lockIsCurrent tells whether the lock at path covers exactly these
// platforms with these inputs, so it can be left as it is.
func lockIsCurrent(path string, in lock.Inputs, platforms []string) bool {
	l, err := lock.ReadFile(path)
	if err != nil {
		return false
	}
	have := slices.Clone(l.Metadata.Platforms)
	want := slices.Clone(platforms)
	slices.Sort(have)
	slices.Sort(want)
	if !slices.Equal(have, want) {
		return false
	}
	for _, p := range platforms {
		if !l.Current(in, p) {
			return false
		}
	}
	return true
}

// subdirsOf maps a definition's OCI platforms to conda subdirs; none means
// linux-64.
func subdirsOf(ociPlatforms []string) ([]string, error) {
	if len(ociPlatforms) == 0 {
		return []string{defaultPlatform}, nil
	}
	bySubdir := map[string]string{
		"linux/amd64":   "linux-64",
		"linux/arm64":   "linux-aarch64",
		"linux/arm64/8": "linux-aarch64",
		"linux/ppc64le": "linux-ppc64le",
		"linux/s390x":   "linux-s390x",
	}
	var out []string
	for _, p := range ociPlatforms {
		sub, ok := bySubdir[p]
		if !ok {
			return nil, fmt.Errorf("platform %q has no conda subdir (use --platform)", p)
		}
		if !slices.Contains(out, sub) {
			out = append(out, sub)
		}
	}
	return out, nil
}
