package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/envkit/envkit/internal/spec"
)

func init() { commands = append(commands, newInitCmd) }

func newInitCmd() *cobra.Command {
	var (
		fromConda, fromReqs, fromAzure string
		out, baseImage, python         string
		force                          bool
	)
	cmd := &cobra.Command{
		Use:   "init --from-conda FILE | --from-requirements FILE | --from-azureml PATH",
		Short: "Write an envkit environment file from a conda, pip or Azure ML definition",
		Long: `init turns an existing definition into a self-contained envkit YAML file: the
conda environment and Dockerfile are written inline, the base image is set
(--base-image, else $ENVKIT_BASE_IMAGE, else docker.io/library/debian:bookworm-slim,
for sources that name none).

--from-requirements installs the requirements with pip into a conda
environment with python (--python, default ` + spec.RequirementsPython + `) and pip from conda-forge.
--from-azureml takes an Azure ML v2 YAML, an azureml_environment.json or a
saved v1 directory. The file is written atomically and never overwritten
without --force.`,
		Example: `  envkit init --from-conda environment.yml -o envkit.yml
  envkit init --from-requirements requirements.txt --python 3.11
  envkit init --from-azureml ./saved-env-dir`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, err := oneSource(fromConda, fromReqs, fromAzure)
			if err != nil {
				return err
			}
			var def *spec.Definition
			if fromReqs != "" {
				def, err = spec.LoadAs(src, spec.FormatRequirements)
				if err != nil {
					return reportLoadError(cmd.ErrOrStderr(), err)
				}
			} else if def, err = loadDefinition(cmd, src); err != nil {
				return err
			}
			if want := initFormats(fromConda, fromReqs); want != nil && !want[def.Source.Format] {
				fmt.Fprintf(cmd.ErrOrStderr(), "%s: expected %s, found a %s definition\n", src, formatList(want), def.Source.Format)
				return &exitError{1}
			}
			if fromReqs != "" && python != "" {
				def.Conda.Dependencies[0].Spec = "python=" + python
			}
			def.SetDefaultBase(baseImageDefault(baseImage))
			if err := rebase(def, sourceDir(src), filepath.Dir(out)); err != nil {
				return err
			}
			// Self-contained: the conda environment and Dockerfile inline.
			if def.Conda != nil {
				def.Conda.File = ""
			}
			def.Base.DockerfilePath = ""
			data, _, err := spec.Write(def, spec.FormatNative, false)
			if err != nil {
				return err
			}
			header := fmt.Sprintf("# envkit environment (docs/environment-yaml.md), made by envkit init from %s.\n", filepath.Base(src))
			data = append([]byte(header), data...)
			if !force {
				if _, err := os.Stat(out); err == nil {
					return fmt.Errorf("%s exists; use --force to replace it or -o to write elsewhere", out)
				}
			}
			if err := writeFileAtomic(out, data); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s from %s (%s)\n", out, src, def.Source.Format)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&fromConda, "from-conda", "", "a conda environment.yml")
	f.StringVar(&fromReqs, "from-requirements", "", "a pip requirements.txt")
	f.StringVar(&fromAzure, "from-azureml", "", "an Azure ML v2 YAML, azureml_environment.json or saved v1 directory")
	f.StringVarP(&out, "output", "o", "envkit.yml", "the file to write")
	f.StringVar(&baseImage, "base-image", "", "base image when the source names none")
	f.StringVar(&python, "python", "", "python version for --from-requirements (default "+spec.RequirementsPython+")")
	f.BoolVar(&force, "force", false, "replace the output file if it exists")
	return cmd
}

func oneSource(srcs ...string) (string, error) {
	var given []string
	for _, s := range srcs {
		if s != "" {
			given = append(given, s)
		}
	}
	if len(given) != 1 {
		return "", usagef("give exactly one of --from-conda, --from-requirements, --from-azureml")
	}
	return given[0], nil
}

// initFormats is the set of formats the chosen --from flag accepts.
func initFormats(fromConda, fromReqs string) map[spec.Format]bool {
	switch {
	case fromConda != "":
		return map[spec.Format]bool{spec.FormatConda: true}
	case fromReqs != "":
		return map[spec.Format]bool{spec.FormatRequirements: true}
	}
	return map[spec.Format]bool{spec.FormatAzureMLv2: true, spec.FormatAzureMLv1: true}
}

func formatList(set map[spec.Format]bool) string {
	var names []string
	for _, f := range []spec.Format{spec.FormatConda, spec.FormatRequirements, spec.FormatAzureMLv2, spec.FormatAzureMLv1} {
		if set[f] {
			names = append(names, string(f))
		}
	}
	return strings.Join(names, " or ")
}
