package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/envkit/envkit/internal/buildplan"
	"github.com/envkit/envkit/internal/hash"
)

func init() { commands = append(commands, newHashCmd) }

func newHashCmd() *cobra.Command {
	var (
		asJSON, explain bool
		baseImage       string
	)
	cmd := &cobra.Command{
		Use:   "hash FILE",
		Short: "Print the definition hash (sha256:<64 hex>), the same for every equivalent definition",
		Long: `hash prints the definition hash: sha256 over a canonical, versioned encoding of
everything that changes the built image (docs/hash.md). Name, version,
description, tags, comments, formatting, key order and dependency order do
not change it; the same environment in any supported format hashes the same.

A conda or requirements file names no base image; the hash then uses
--base-image, else $ENVKIT_BASE_IMAGE, else docker.io/library/debian:bookworm-slim.`,
		Example: `  envkit hash examples/minimal/environment.yml
  envkit hash --explain environment.yml      # the canonical document hashed
  ENVKIT_BASE_IMAGE=docker.io/library/ubuntu:24.04 envkit hash conda.yml`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			def, err := loadDefinition(cmd, args[0])
			if err != nil {
				return err
			}
			def = buildplan.WithBase(def, baseOverride(baseImage))
			doc, err := hash.Document(def)
			if err != nil {
				return err
			}
			sum, err := hash.Of(def)
			if err != nil {
				return err
			}
			switch {
			case asJSON:
				return writeJSON(cmd.OutOrStdout(), struct {
					File   string `json:"file"`
					Format string `json:"format"`
					Hash   string `json:"hash"`
				}{def.Source.Path, string(def.Source.Format), sum})
			case explain:
				fmt.Fprintf(cmd.OutOrStdout(), "%s\n%s\n", doc, sum)
			default:
				fmt.Fprintln(cmd.OutOrStdout(), sum)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print {file, format, hash} as JSON")
	cmd.Flags().BoolVar(&explain, "explain", false, "print the canonical document before the hash")
	cmd.Flags().StringVar(&baseImage, "base-image", "", "base image for definitions that name none")
	return cmd
}
