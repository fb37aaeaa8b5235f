package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/envkit/envkit/internal/registry"
)

func init() { commands = append(commands, newPullCmd) }

func newPullCmd() *cobra.Command {
	var (
		outDir string
		force  bool
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "pull REPO/NAME[:VERSION]",
		Short: "Fetch a registered definition, its lock and referenced files into a directory",
		Long: `pull fetches a version of an environment (default: latest) and writes the
definition under its original file name, with its conda-lock.yml and the
files it references at their original relative paths, into DIR: byte for
byte what push stored. Existing files with other content are left alone
and the pull fails, unless --force; nothing is written when anything fails.`,
		Example: `  envkit pull localhost:5000/envs/sklearn -o sklearn
  envkit pull localhost:5000/envs/sklearn:2`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := registry.NewClient()
			if err != nil {
				return err
			}
			env, v, err := client.Pull(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			written, err := writeEnvironment(env, outDir, force)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), struct {
					Version    int      `json:"version"`
					Hash       string   `json:"hash"`
					Definition string   `json:"definition"`
					Files      []string `json:"files"`
				}{v.Number, v.Hash, filepath.Join(outDir, env.Definition().Path), written})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s version %d (%s)\n", env.Name, v.Number, v.Hash)
			for _, f := range written {
				fmt.Fprintln(cmd.OutOrStdout(), f)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&outDir, "output", "o", ".", "directory to write the files into")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite existing files with other content")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print {version, hash, definition, files} as JSON")
	return cmd
}

// writeEnvironment writes env's files under dir and returns their paths.
// Every file is first written to a temporary file beside its target; only
// when all of them are written are they renamed into place, so a failure
// leaves dir as it was.
func writeEnvironment(env *registry.Environment, dir string, force bool) ([]string, error) {
	type staged struct{ tmp, target string }
	var done []staged
	cleanup := func() {
		for _, s := range done {
			os.Remove(s.tmp)
		}
	}
	var paths []string
	for _, f := range env.Files {
		target := filepath.Join(dir, filepath.FromSlash(f.Path))
		paths = append(paths, target)
		switch old, err := os.ReadFile(target); {
		case err == nil && bytes.Equal(old, f.Data):
			continue
		case err == nil && !force:
			cleanup()
			return nil, fmt.Errorf("%s exists with other content: pull into another directory or use --force", target)
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			cleanup()
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			cleanup()
			return nil, err
		}
		tmp, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".*.tmp")
		if err != nil {
			cleanup()
			return nil, err
		}
		done = append(done, staged{tmp.Name(), target})
		_, err = tmp.Write(f.Data)
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Chmod(tmp.Name(), 0o644)
		}
		if err != nil {
			cleanup()
			return nil, err
		}
	}
	for i, s := range done {
		if err := os.Rename(s.tmp, s.target); err != nil {
			for _, rest := range done[i:] {
				os.Remove(rest.tmp)
			}
			return nil, err
		}
	}
	return paths, nil
}
