package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/envkit/envkit/curated"
	"github.com/envkit/envkit/internal/hash"
	"github.com/envkit/envkit/internal/spec"
)

func init() { commands = append(commands, newCuratedCmd) }

func newCuratedCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "curated",
		Short: "List and show the curated environments built into envkit",
		Long: `curated environments are maintained envkit definitions embedded in envkit,
to start from: copy one (envkit curated show NAME > environment.yml) or
extend it (from: curated/NAME, docs/curated.md).`,
	}
	var asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List the curated environments with their descriptions and hashes",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			type entry struct {
				Name        string            `json:"name"`
				Description string            `json:"description"`
				Tags        map[string]string `json:"tags"`
				Hash        string            `json:"hash"`
			}
			var out []entry
			for _, name := range curated.Names() {
				def, err := curatedDefinition(name)
				if err != nil {
					return err
				}
				sum, err := hash.Of(def)
				if err != nil {
					return err
				}
				out = append(out, entry{name, def.Description, def.Tags, sum})
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), out)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tDESCRIPTION")
			for _, e := range out {
				fmt.Fprintf(tw, "%s\t%s\n", e.Name, e.Description)
			}
			return tw.Flush()
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print [{name, description, tags, hash}] as JSON")
	show := &cobra.Command{
		Use:     "show NAME",
		Short:   "Print a curated environment's definition (envkit YAML)",
		Example: `  envkit curated show sklearn > environment.yml`,
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := curated.Get(args[0])
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(data)
			return err
		},
	}
	cmd.AddCommand(list, show)
	return cmd
}

// curatedDefinition reads a curated environment.
func curatedDefinition(name string) (*spec.Definition, error) {
	data, err := curated.Get(name)
	if err != nil {
		return nil, err
	}
	return spec.Parse(curated.FileName(name), data, curated.FS())
}
