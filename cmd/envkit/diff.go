package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/envkit/envkit/curated"
	"github.com/envkit/envkit/internal/buildplan"
	"github.com/envkit/envkit/internal/conda/lock"
	"github.com/envkit/envkit/internal/envdiff"
	"github.com/envkit/envkit/internal/registry"
	"github.com/envkit/envkit/internal/spec"
)

func init() { commands = append(commands, newDiffCmd) }

func newDiffCmd() *cobra.Command {
	var (
		asJSON    bool
		baseImage string
	)
	cmd := &cobra.Command{
		Use:   "diff A B",
		Short: "Show the semantic difference between two definitions (files or registered versions)",
		Long: `diff compares two environments, each a definition file (with the
conda-lock.yml beside it, if any), a registered version REPO/NAME:VERSION or
a curated environment (curated/NAME), by meaning: conda and pip packages added, removed or re-pinned (by package
name, PEP 503 names for pip), base image, steps, channels, environment
variables, Spark packages, locked packages per platform, and whether the
definition hash changed. Reordering, reformatting or another file format
make no difference; name, version, description and tags are shown apart,
as they never enter the hash.`,
		Example: `  envkit diff localhost:5000/envs/sklearn:1 localhost:5000/envs/sklearn:2
  envkit diff environment.yml localhost:5000/envs/sklearn
  envkit diff curated/sklearn environment.yml
  envkit diff --json old/environment.yml new/environment.yml`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var sides [2]*environmentSource
			for i, arg := range args {
				src, err := openEnvironment(cmd.Context(), cmd, arg)
				if err != nil {
					return err
				}
				defer src.close()
				src.def = buildplan.WithBase(src.def, baseOverride(baseImage))
				sides[i] = src
			}
			report, err := envdiff.Compare(sides[0].def, sides[1].def, sides[0].lock, sides[1].lock)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), report)
			}
			return report.WriteText(cmd.OutOrStdout())
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the difference as JSON")
	cmd.Flags().StringVar(&baseImage, "base-image", "", "base image for definitions that name none (enters the hash)")
	return cmd
}

// environmentSource is a definition with its lock, read from a file or
// pulled from a registry into a temporary directory.
type environmentSource struct {
	def  *spec.Definition
	lock *lock.Lock // nil when there is none
	// ref is the registry reference or curated/NAME, "" for a file.
	ref     string
	version registry.Version
	tmpDir  string
}

func (s *environmentSource) close() {
	if s.tmpDir != "" {
		os.RemoveAll(s.tmpDir)
	}
}

// openEnvironment reads arg: an existing file or directory, a curated
// environment (curated/NAME), else a registry reference
// HOST/PATH/NAME[:VERSION].
func openEnvironment(ctx context.Context, cmd *cobra.Command, arg string) (*environmentSource, error) {
	_, statErr := os.Stat(arg)
	if name, ok := strings.CutPrefix(arg, curated.Prefix); ok && statErr != nil {
		def, err := curatedDefinition(name)
		if err != nil {
			return nil, err
		}
		return &environmentSource{def: def, ref: arg}, nil
	}
	if statErr == nil || !registry.LooksLikeRef(arg) {
		def, err := loadDefinition(cmd, arg)
		if err != nil {
			return nil, err
		}
		l, err := lockBeside(def)
		if err != nil {
			return nil, err
		}
		return &environmentSource{def: def, lock: l}, nil
	}
	client, err := registry.NewClient()
	if err != nil {
		return nil, err
	}
	env, v, err := client.Pull(ctx, arg)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "envkit-pull-")
	if err != nil {
		return nil, err
	}
	src := &environmentSource{ref: arg, version: v, tmpDir: tmp}
	if _, err := writeEnvironment(env, tmp, false); err != nil {
		src.close()
		return nil, err
	}
	if src.def, err = spec.Load(filepath.Join(tmp, filepath.FromSlash(env.Definition().Path))); err != nil {
		src.close()
		return nil, fmt.Errorf("%s: %w", arg, err)
	}
	if src.lock, err = lockBeside(src.def); err != nil {
		src.close()
		return nil, fmt.Errorf("%s: %w", arg, err)
	}
	return src, nil
}

// lockBeside reads the conda-lock.yml in the definition's directory; nil
// when there is none.
func lockBeside(def *spec.Definition) (*lock.Lock, error) {
	path := filepath.Join(filepath.Dir(def.Source.Path), buildplan.LockFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return lock.Read(path, data)
}
