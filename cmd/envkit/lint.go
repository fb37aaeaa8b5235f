package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/envkit/envkit/internal/lint"
)

func init() { commands = append(commands, newLintCmd) }

func newLintCmd() *cobra.Command {
	var (
		asJSON, strict bool
		deny           []string
	)
	cmd := &cobra.Command{
		Use:   "lint FILE",
		Short: "Warn about unpinned packages, missing python, untagged base images, credentials",
		Long: `lint validates a definition, then reports what makes it fragile or unsafe,
modelled on Azure ML's environment definition analysis. Each finding is
FILE:LINE:COL: severity: message [rule].

With --deny, the packages of the lock beside the definition (every platform
it locks) whose licence leaves no choice but a denied one are errors
[license-denied] (docs/sbom.md).

Exit status: 1 when the definition is invalid, when a finding has severity
error (credentials, a denied licence), or with --strict when there is any
finding; else 0.`,
		Example: `  envkit lint environment.yml
  envkit lint --json --strict conda.yml
  envkit lint --deny GPL-3.0-only,AGPL-3.0-only environment.yml`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			def, err := loadDefinition(cmd, args[0])
			if err != nil {
				return err
			}
			findings := lint.Check(def)
			if len(deny) > 0 {
				denied, err := deniedLicenses(cmd.Context(), def, deny)
				if err != nil {
					return err
				}
				findings = append(findings, denied...)
			}
			if asJSON {
				if findings == nil {
					findings = []lint.Finding{}
				}
				if err := writeJSON(cmd.OutOrStdout(), findings); err != nil {
					return err
				}
			} else {
				for _, f := range findings {
					fmt.Fprintln(cmd.OutOrStdout(), f)
				}
			}
			for _, f := range findings {
				if strict || f.Severity == lint.Error {
					return &exitError{1}
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the findings as a JSON list")
	cmd.Flags().BoolVar(&strict, "strict", false, "exit 1 on any finding, warnings included")
	cmd.Flags().StringSliceVar(&deny, "deny", nil, "licences (SPDX identifiers, comma-separated) no locked package may have; needs the lock")
	return cmd
}
