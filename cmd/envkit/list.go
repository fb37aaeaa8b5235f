package main

import (
	"fmt"
	"path"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/envkit/envkit/internal/registry"
)

func init() { commands = append(commands, newListCmd) }

func newListCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list REPO",
		Short: "List the environments registered under REPO, each with its latest version",
		Long: `list reads the registry's catalog for the repositories directly under REPO
that hold envkit environments, and prints each name with its latest version,
definition hash and push date. Exit status 1 when there are none.`,
		Example: `  envkit list localhost:5000/envs`,
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := registry.NewClient()
			if err != nil {
				return err
			}
			entries, err := client.List(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if asJSON {
				out := make([]versionJSON, len(entries))
				for i, e := range entries {
					out[i] = versionOut(e.Ref, e.Latest)
				}
				return writeJSON(cmd.OutOrStdout(), out)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tVERSION\tHASH\tPUSHED\tDESCRIPTION")
			for _, e := range entries {
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", path.Base(e.Ref), e.Latest.Number, e.Latest.Hash, pushedText(e.Latest.Pushed), e.Latest.Description)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print [{ref, name, version, hash, pushed, digest, ...}] as JSON")
	return cmd
}

// versionJSON is one version in list and versions output.
type versionJSON struct {
	Ref         string            `json:"ref"`
	Name        string            `json:"name"`
	Version     int               `json:"version"`
	Hash        string            `json:"hash"`
	Digest      string            `json:"digest"`
	Pushed      string            `json:"pushed,omitempty"`
	Description string            `json:"description,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`
}

func versionOut(repo string, v registry.Version) versionJSON {
	out := versionJSON{Ref: fmt.Sprintf("%s:%d", repo, v.Number), Name: v.Name, Version: v.Number, Hash: v.Hash, Digest: v.Digest, Description: v.Description, Tags: v.Tags}
	if !v.Pushed.IsZero() {
		out.Pushed = v.Pushed.UTC().Format(time.RFC3339)
	}
	return out
}

func pushedText(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
