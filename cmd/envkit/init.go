package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/envkit/envkit/curated"
	"github.com/envkit/envkit/internal/buildplan"
	"github.com/envkit/envkit/internal/spec"
)

func init() { commands = append(commands, newInitCmd) }

func newInitCmd() *cobra.Command {
	var (
		fromConda, fromReqs, fromAzure, fromMLflow string
		fromCurated                                string
		out, baseImage, python, name               string
		force                                      bool
	)
	cmd := &cobra.Command{
		Use:   "init --from-conda FILE | --from-requirements FILE | --from-azureml PATH | --from-mlflow PATH | --curated NAME",
		Short: "Write an envkit environment file from a conda, pip, Azure ML or MLflow definition, or extending a curated one",
		Long: `init turns an existing definition into a self-contained envkit YAML file: the
conda environment and Dockerfile are written inline, the base image is set
(--base-image, else $ENVKIT_BASE_IMAGE, else docker.io/library/debian:bookworm-slim,
for sources that name none).

--from-requirements installs the requirements with pip into a conda
environment with python (--python, default ` + spec.RequirementsPython + `) and pip from conda-forge.
--from-azureml takes an Azure ML v2 YAML, an azureml_environment.json or a
saved v1 directory. --from-mlflow takes an MLflow model folder (its
python_env.yaml) or a python_env.yaml: python at its version from
conda-forge, the build_dependencies and dependencies as pip lines (-r files
read beside it).

--curated NAME writes a short definition that extends the curated
environment NAME (from: curated/NAME, named --name, default my-NAME) with a
commented example of adding packages: list only what you add or re-pin
(docs/curated.md); envkit curated show NAME prints what it starts from.

The file is written atomically and never overwritten without --force.`,
		Example: `  envkit init --from-conda environment.yml -o envkit.yml
  envkit init --from-requirements requirements.txt --python 3.11
  envkit init --from-azureml ./saved-env-dir
  envkit init --from-mlflow ./mlruns/0/RUN/artifacts/model
  envkit init --curated sklearn -o environment.yml`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, err := oneSource(fromConda, fromReqs, fromAzure, fromMLflow, fromCurated)
			if err != nil {
				return err
			}
			if fromCurated != "" {
				return initCurated(cmd, fromCurated, name, out, force)
			}
			var def *spec.Definition
			switch {
			case fromReqs != "":
				def, err = spec.LoadAs(src, spec.FormatRequirements)
			case fromMLflow != "":
				def, err = spec.LoadAs(src, spec.FormatMLflow)
			default:
				def, err = spec.Load(src)
			}
			if err != nil {
				return reportLoadError(cmd.ErrOrStderr(), err)
			}
			if want := initFormats(fromConda, fromReqs, fromMLflow); want != nil && !want[def.Source.Format] {
				fmt.Fprintf(cmd.ErrOrStderr(), "%s: expected %s, found a %s definition\n", src, formatList(want), def.Source.Format)
				return &exitError{1}
			}
			if fromReqs != "" && python != "" {
				def.Conda.Dependencies[0].Spec = "python=" + python
			}
			def.SetDefaultBase(buildplan.BaseImage(def, baseOverride(baseImage)))
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
			if err := writeNew(out, data, force); err != nil {
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
	f.StringVar(&fromMLflow, "from-mlflow", "", "an MLflow model folder or its python_env.yaml")
	f.StringVarP(&out, "output", "o", "envkit.yml", "the file to write")
	f.StringVar(&baseImage, "base-image", "", "base image when the source names none")
	f.StringVar(&python, "python", "", "python version for --from-requirements (default "+spec.RequirementsPython+")")
	f.StringVar(&fromCurated, "curated", "", "a curated environment to extend (envkit curated list)")
	f.StringVar(&name, "name", "", "the name of a --curated definition (default my-NAME)")
	f.BoolVar(&force, "force", false, "replace the output file if it exists")
	return cmd
}

// writeNew writes data to out atomically, refusing to replace an existing
// file unless force.
func writeNew(out string, data []byte, force bool) error {
	if !force {
		if _, err := os.Stat(out); err == nil {
			return fmt.Errorf("%s exists; use --force to replace it or -o to write elsewhere", out)
		}
	}
	return writeFileAtomic(out, data)
}

// initCurated writes a definition extending a curated environment: only
// from: and a commented example, so the file shows what the user changed
// and picks up the curated environment's fixes with each envkit release.
func initCurated(cmd *cobra.Command, ref, name, out string, force bool) error {
	data, err := curatedInitFile(ref, name)
	if err != nil {
		return err
	}
	if err := writeNew(out, data, force); err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s extending %s%s\n", out, curated.Prefix, strings.TrimPrefix(ref, curated.Prefix))
	return nil
}

// curatedExample is the commented part of envkit init --curated: uncommented,
// it is a valid extension of every curated environment.
const curatedExample = `# Add packages or re-pin curated ones (the same package name replaces the
# curated pin); channels, env and spark packages merge the same way.
# Uncomment and edit:
#conda:
#  dependencies:
#    - lightgbm=4.5
#    - pip:
#        - mlflow==2.17.0
#env:
#  OMP_NUM_THREADS: "4"
`

// curatedInitFile renders the definition envkit init --curated writes, and
// checks that it reads back.
func curatedInitFile(ref, name string) ([]byte, error) {
	short := strings.TrimPrefix(ref, curated.Prefix)
	base, err := curated.Get(short)
	if err != nil {
		return nil, err
	}
	if name == "" {
		name = "my-" + short
	}
	var b strings.Builder
	// Keep the curated file's # syntax= line, so docker buildx builds this
	// file as it builds the curated one.
	if first, _, _ := strings.Cut(string(base), "\n"); strings.HasPrefix(first, "# syntax=") {
		b.WriteString(first + "\n")
	}
	fmt.Fprintf(&b, "# envkit environment (docs/environment-yaml.md), made by envkit init --curated %s.\n", short)
	fmt.Fprintf(&b, "# It extends the curated environment %s (envkit curated show %s prints it)\n", short, short)
	b.WriteString("# with what this file lists; docs/curated.md has the rule.\n")
	top, err := yaml.Marshal(map[string]string{"name": name})
	if err != nil {
		return nil, err
	}
	b.Write(top)
	fmt.Fprintf(&b, "from: %s%s\n", curated.Prefix, short)
	b.WriteString(curatedExample)
	data := []byte(b.String())
	if _, err := spec.Parse(short+".yml", data, nil); err != nil {
		return nil, fmt.Errorf("envkit init --curated %s: the file it would write is invalid:\n%v", short, err)
	}
	return data, nil
}

func oneSource(srcs ...string) (string, error) {
	var given []string
	for _, s := range srcs {
		if s != "" {
			given = append(given, s)
		}
	}
	if len(given) != 1 {
		return "", usagef("give exactly one of --from-conda, --from-requirements, --from-azureml, --from-mlflow, --curated")
	}
	return given[0], nil
}

// initFormats is the set of formats the chosen --from flag accepts.
func initFormats(fromConda, fromReqs, fromMLflow string) map[spec.Format]bool {
	switch {
	case fromConda != "":
		return map[spec.Format]bool{spec.FormatConda: true}
	case fromReqs != "":
		return map[spec.Format]bool{spec.FormatRequirements: true}
	case fromMLflow != "":
		return map[spec.Format]bool{spec.FormatMLflow: true}
	}
	return map[spec.Format]bool{spec.FormatAzureMLv2: true, spec.FormatAzureMLv1: true}
}

func formatList(set map[spec.Format]bool) string {
	var names []string
	for _, f := range []spec.Format{spec.FormatConda, spec.FormatRequirements, spec.FormatAzureMLv2, spec.FormatAzureMLv1, spec.FormatMLflow} {
		if set[f] {
			names = append(names, string(f))
		}
	}
	return strings.Join(names, " or ")
}
