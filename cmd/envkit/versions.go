package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/envkit/envkit/internal/registry"
)

func init() { commands = append(commands, newVersionsCmd) }

func newVersionsCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "versions REPO/NAME",
		Short: "List the versions of a registered environment with their hashes and push dates",
		Long: `versions prints every version of the environment REPO/NAME, oldest first,
with its definition hash, push date and manifest digest; "latest" marks the
version the latest tag points to.`,
		Example: `  envkit versions localhost:5000/envs/sklearn`,
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := registry.NewClient()
			if err != nil {
				return err
			}
			vs, err := client.Versions(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if asJSON {
				out := make([]versionJSON, len(vs))
				for i, v := range vs {
					out[i] = versionOut(args[0], v)
				}
				return writeJSON(cmd.OutOrStdout(), out)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "VERSION\tHASH\tPUSHED\tDIGEST")
			for i, v := range vs {
				mark := ""
				if i == len(vs)-1 {
					mark = " (latest)"
				}
				fmt.Fprintf(tw, "%d%s\t%s\t%s\t%s\n", v.Number, mark, v.Hash, pushedText(v.Pushed), v.Digest)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print [{ref, name, version, hash, pushed, digest, ...}] as JSON")
	return cmd
}
