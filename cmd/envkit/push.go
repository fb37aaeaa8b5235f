package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/envkit/envkit/internal/buildplan"
	"github.com/envkit/envkit/internal/conda/lock"
	"github.com/envkit/envkit/internal/hash"
	"github.com/envkit/envkit/internal/registry"
	"github.com/envkit/envkit/internal/spec"
)

func init() { commands = append(commands, newPushCmd) }

func newPushCmd() *cobra.Command {
	var (
		version         int
		name, baseImage string
		asJSON          bool
	)
	cmd := &cobra.Command{
		Use:   "push FILE REPO",
		Short: "Register a definition (with its lock and referenced files) as a version of REPO/NAME",
		Long: `push stores the definition FILE, the conda-lock.yml beside it and the files it
references as an OCI artifact in the repository REPO/NAME (docs/registry.md),
tagged NAME:VERSION and NAME:latest. NAME is --name, else the definition's
name, in lower case.

Without --version the version is the next integer, unless an existing
version holds the same definition hash (renamed, reformatted or reordered
definitions hash the same): then nothing is pushed and that version is
reported. --version N refuses to overwrite a different definition at N.

Credentials come from the Docker config file ($DOCKER_CONFIG/config.json or
~/.docker/config.json, credential helpers included); localhost and loopback
registries are reached over plain HTTP.`,
		Example: `  envkit push environment.yml localhost:5000/envs
  envkit push --name sklearn --version 3 conda.yml registry.example/team/envs`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if version < 0 {
				return usagef("--version %d: versions are positive integers", version)
			}
			def, err := loadDefinition(cmd, args[0])
			if err != nil {
				return err
			}
			env, err := environmentOf(def, name, baseOverride(baseImage))
			if err != nil {
				return err
			}
			client, err := registry.NewClient()
			if err != nil {
				return err
			}
			res, err := client.Push(cmd.Context(), args[1], env, version, time.Now())
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), struct {
					Ref     string `json:"ref"`
					Version int    `json:"version"`
					Hash    string `json:"hash"`
					Digest  string `json:"digest"`
					Created bool   `json:"created"`
				}{res.Ref, res.Version.Number, res.Version.Hash, res.Version.Digest, res.Created})
			}
			if res.Created {
				fmt.Fprintf(cmd.OutOrStdout(), "pushed %s (%s)\n", res.Ref, res.Version.Hash)
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "unchanged: %s already holds %s\n", res.Ref, res.Version.Hash)
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&version, "version", 0, "push as this version (default: the next one, when the definition changed)")
	cmd.Flags().StringVar(&name, "name", "", "environment name (default: the definition's name)")
	cmd.Flags().StringVar(&baseImage, "base-image", "", "base image for definitions that name none (enters the hash)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print {ref, version, hash, digest, created} as JSON")
	return cmd
}

// environmentOf gathers what a push stores: the definition file, the lock
// beside it (checked to read as a lock) and every file the definition
// references, paths relative to the definition's directory.
func environmentOf(def *spec.Definition, name, baseImage string) (*registry.Environment, error) {
	if name == "" {
		name = def.Name
	}
	if name == "" && def.Conda != nil {
		name = def.Conda.Name
	}
	if name == "" {
		return nil, fmt.Errorf("%s: the definition has no name: give one with --name", def.Source.Path)
	}
	if _, err := registry.RepoName(name); err != nil {
		return nil, fmt.Errorf("%v: give another with --name", err)
	}
	def = buildplan.WithBase(def, baseImage)
	sum, err := hash.Of(def)
	if err != nil {
		return nil, err
	}
	defPath := def.Source.Path
	dir := filepath.Dir(defPath)
	env := &registry.Environment{Name: name, Description: def.Description, Tags: def.Tags, Hash: sum}
	seen := map[string]bool{}
	add := func(rel string, role registry.Role) error {
		if seen[rel] {
			return nil
		}
		seen[rel] = true
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			return err
		}
		env.Files = append(env.Files, registry.File{Path: rel, Role: role, Data: data})
		return nil
	}
	if err := add(filepath.Base(defPath), registry.RoleDefinition); err != nil {
		return nil, err
	}
	lockPath := filepath.Join(dir, buildplan.LockFile)
	switch data, err := os.ReadFile(lockPath); {
	case err == nil:
		if _, err := lock.Read(lockPath, data); err != nil {
			return nil, err
		}
		seen[buildplan.LockFile] = true
		env.Files = append(env.Files, registry.File{Path: buildplan.LockFile, Role: registry.RoleLock, Data: data})
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	for _, f := range def.Source.Files {
		if err := add(f, registry.RoleFile); err != nil {
			return nil, err
		}
	}
	if def.Base.Git != nil {
		// A git context's files stay in its repository: the definition
		// names it, the lock pins a branch's commit.
		return env, nil
	}
	for _, f := range def.Base.ContextFiles {
		if err := add(path.Join(filepath.ToSlash(def.Base.Context), f.Path), registry.RoleFile); err != nil {
			return nil, err
		}
	}
	return env, nil
}
