package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/envkit/envkit/internal/buildplan"
	"github.com/envkit/envkit/internal/spec"
)

func init() { commands = append(commands, newValidateCmd) }

func newValidateCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "validate FILE",
		Short: "Check an environment definition and report every problem as FILE:LINE:COL",
		Long: `validate reads an environment definition in any supported format (envkit
YAML, Azure ML v2 YAML, Azure ML v1 JSON or saved directory, conda
environment.yml, requirements.txt) with the files it references, and reports
every problem as FILE:LINE:COL: message. Exit status 1 when it is invalid.`,
		Example: `  envkit validate examples/minimal/environment.yml
  envkit validate --json cli/assets/environment/docker-image-plus-conda.yml`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			def, _, err := loadWithGit(cmd.Context(), args[0], besideLock(args[0]), false)
			if asJSON {
				return printValidateJSON(cmd.OutOrStdout(), args[0], def, err)
			}
			if err != nil {
				return reportLoadError(cmd.ErrOrStderr(), err)
			}
			extends := ""
			if def.Source.From != "" {
				extends = " extending " + def.Source.From
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: valid %s definition%s\n", def.Source.Path, def.Source.Format, extends)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON ({valid, format, from, errors[]})")
	return cmd
}

// loadDefinition reads a definition, printing its errors to stderr; a git
// build context is read as the build reads it (loadWithGit).
func loadDefinition(cmd *cobra.Command, path string) (*spec.Definition, error) {
	def, _, err := loadWithGit(cmd.Context(), path, besideLock(path), false)
	if err != nil {
		return nil, reportLoadError(cmd.ErrOrStderr(), err)
	}
	return def, nil
}

// reportLoadError prints validation errors one per line and turns them
// into exit status 1; other errors (no such file) are returned as they are.
func reportLoadError(w io.Writer, err error) error {
	var list spec.ErrorList
	if errors.As(err, &list) {
		fmt.Fprintln(w, list.Error())
		return &exitError{1}
	}
	return err
}

type jsonError struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Col     int    `json:"col"`
	Message string `json:"message"`
}

func printValidateJSON(w io.Writer, path string, def *spec.Definition, err error) error {
	out := struct {
		File   string      `json:"file"`
		Valid  bool        `json:"valid"`
		Format spec.Format `json:"format,omitempty"`
		From   string      `json:"from,omitempty"`
		Errors []jsonError `json:"errors"`
	}{File: path, Valid: err == nil, Errors: []jsonError{}}
	if def != nil {
		out.Format, out.From = def.Source.Format, def.Source.From
	}
	var list spec.ErrorList
	switch {
	case errors.As(err, &list):
		for _, e := range list {
			out.Errors = append(out.Errors, jsonError{e.Pos.File, e.Pos.Line, e.Pos.Col, e.Msg})
		}
	case err != nil:
		out.Errors = append(out.Errors, jsonError{File: path, Message: err.Error()})
	}
	if werr := writeJSON(w, out); werr != nil {
		return werr
	}
	if err != nil {
		return &exitError{1}
	}
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory and a rename, so path is either the old file or the new one,
// never half-written.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// baseOverride is the base image for definitions that name none, as the
// CLI gives it: --base-image, else $ENVKIT_BASE_IMAGE (which envkit build
// passes to the frontend too); buildplan.BaseImage applies it.
func baseOverride(flag string) string {
	if flag != "" {
		return flag
	}
	return os.Getenv(buildplan.ArgBaseImage)
}
