package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/envkit/envkit/internal/buildplan"
	"github.com/envkit/envkit/internal/spec"
)

func init() { commands = append(commands, newConvertCmd) }

func newConvertCmd() *cobra.Command {
	var (
		to, out, baseImage string
		lossy              bool
	)
	cmd := &cobra.Command{
		Use:   "convert FILE --to native|azureml|conda",
		Short: "Rewrite a definition in another format without losing a field",
		Long: `convert reads a definition in any supported format and writes it as envkit
YAML (native), Azure ML v2 YAML (azureml) or a conda environment.yml (conda).
Paths the definition references stay relative to the output file.

When the target format cannot hold a field (steps in Azure ML YAML, a base
image in a conda file...), convert names the fields and writes nothing,
unless --lossy allows dropping them. Output goes to stdout unless -o is
given; -o writes atomically (temporary file and rename). What convert
writes is read back first: a file envkit validate would reject is not
written.

Azure ML installs a conda environment only on top of an image, so a conda
or requirements file converted to azureml gets image: set to the base that
envkit hash uses (--base-image, else $ENVKIT_BASE_IMAGE, else
docker.io/library/debian:bookworm-slim) and its environment as an inline
conda_file: the converted file hashes the same as the source.`,
		Example: `  envkit convert docker-image-plus-conda.yml --to native -o environment.yml
  envkit convert environment.yml --to azureml
  envkit convert environment.yml --to conda --lossy -o conda.yml`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := parseTarget(to)
			if err != nil {
				return err
			}
			def, err := loadDefinition(cmd, args[0])
			if err != nil {
				return err
			}
			if format == spec.FormatAzureMLv2 {
				def = buildplan.WithBase(def, baseOverride(baseImage))
			}
			dir, name := sourceDir(args[0]), "converted.yml"
			if out != "" {
				if err := rebase(def, dir, filepath.Dir(out)); err != nil {
					return err
				}
				dir, name = filepath.Dir(out), filepath.Base(out)
			}
			data, dropped, err := spec.Write(def, format, lossy)
			if err != nil {
				return err
			}
			git, open := gitOpener(cmd.Context(), besideLock(args[0]), false)
			defer git.Close()
			if _, err := spec.ParseWith(name, data, os.DirFS(dir), spec.Options{Format: format, Git: open}); err != nil {
				return fmt.Errorf("the %s file convert would write does not validate, so nothing is written (please report this):\n%v", format, err)
			}
			for _, d := range dropped {
				fmt.Fprintf(cmd.ErrOrStderr(), "envkit: dropped %s: the %s format has no place for it\n", d, format)
			}
			if out == "" {
				_, err = cmd.OutOrStdout().Write(data)
				return err
			}
			return writeFileAtomic(out, data)
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "target format: native, azureml or conda (required)")
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to this file instead of stdout")
	cmd.Flags().StringVar(&baseImage, "base-image", "", "--to azureml: base image for definitions that name none")
	cmd.Flags().BoolVar(&lossy, "lossy", false, "drop the fields the target format cannot hold instead of failing")
	return cmd
}

func parseTarget(to string) (spec.Format, error) {
	switch to {
	case "native", "envkit":
		return spec.FormatNative, nil
	case "azureml", "azureml-v2":
		return spec.FormatAzureMLv2, nil
	case "conda":
		return spec.FormatConda, nil
	case "":
		return "", usagef("--to is required: native, azureml or conda")
	}
	return "", usagef("--to %q: want native, azureml or conda", to)
}

// sourceDir is the directory a definition's relative paths start from.
func sourceDir(path string) string {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return path
	}
	return filepath.Dir(path)
}

// rebase rewrites the definition's relative paths (build context,
// Dockerfile, conda file) so they still name the same files from outDir.
// A Dockerfile or conda file that would lie outside outDir is written
// inline instead; a build context cannot be, so that is an error.
func rebase(def *spec.Definition, srcDir, outDir string) error {
	from, err := filepath.Abs(srcDir)
	if err != nil {
		return err
	}
	to, err := filepath.Abs(outDir)
	if err != nil {
		return err
	}
	if from == to {
		return nil
	}
	// move returns p seen from outDir, and whether it stays inside it.
	move := func(p string) (string, bool) {
		rel, err := filepath.Rel(to, filepath.Join(from, filepath.FromSlash(p)))
		if err != nil || !filepath.IsLocal(rel) && rel != "." {
			return "", false
		}
		return filepath.ToSlash(rel), true
	}
	// A git context, and the Dockerfile inside it, do not move.
	if b := &def.Base; b.Git == nil {
		if b.Dockerfile != "" && b.Context == "" {
			b.Context = "."
		}
		if b.Context != "" {
			rel, ok := move(b.Context)
			if !ok {
				return fmt.Errorf("the build context %s would be outside %s: write the output into a directory that contains it", filepath.Join(srcDir, b.Context), outDir)
			}
			b.Context = rel
		}
		if b.DockerfilePath != "" {
			b.DockerfilePath, _ = move(b.DockerfilePath) // "" when outside: inline
		}
	}
	if def.Conda != nil && def.Conda.File != "" {
		def.Conda.File, _ = move(def.Conda.File)
	}
	// Wheel files are read where the line names them, so they move too.
	pips := [][]spec.Requirement{def.Pip}
	if def.Conda != nil {
		pips = append(pips, def.Conda.Pip)
	}
	for _, reqs := range pips {
		for i, q := range reqs {
			if q.Wheel == nil {
				continue
			}
			rel, ok := move(q.Wheel.Path)
			if !ok {
				return fmt.Errorf("%s: the wheel file %s would be outside %s: write the output into a directory that contains it", q.Pos, filepath.Join(srcDir, q.Wheel.Path), outDir)
			}
			w := *q.Wheel
			w.Path = rel
			reqs[i].Wheel = &w
		}
	}
	return nil
}
