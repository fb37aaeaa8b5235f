package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/envkit/envkit/internal/buildplan"
	"github.com/envkit/envkit/internal/lint"
	"github.com/envkit/envkit/internal/sbom"
	"github.com/envkit/envkit/internal/spec"
)

func init() { commands = append(commands, newLicensesCmd) }

// RuleLicenseDenied is the lint finding of a package whose licence
// lint --deny names.
const RuleLicenseDenied = "license-denied"

type licensedPackage struct {
	Kind     sbom.Kind `json:"kind"`
	Name     string    `json:"name"`
	Version  string    `json:"version"`
	PURL     string    `json:"purl"`
	Declared string    `json:"declared,omitempty"`
}

type licenseGroup struct {
	License  string            `json:"license"`
	Packages []licensedPackage `json:"packages"`
}

func newLicensesCmd() *cobra.Command {
	var (
		flags  bomFlags
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "licenses FILE",
		Short: "List an environment's packages by licence, from its lock",
		Long: `licenses lists the packages of one platform of an environment (what envkit
sbom describes) grouped by licence: the licence each package declares as an
SPDX expression, LicenseRef-… for a declared text that is not one (the text
is in --json's "declared"), NOASSERTION where none is known. The lock holds
no licences: conda packages' come from their channels' repodata, wheels'
from their METADATA, jars' from their POMs (none with --lock-only;
docs/sbom.md). envkit lint --deny fails on chosen licences.`,
		Example: `  envkit licenses environment.yml
  envkit licenses --json --platform linux-aarch64 environment.yml`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := loadBOM(cmd, args[0], flags)
			if err != nil {
				return err
			}
			groups := licenseGroups(b)
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), groups)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "LICENSE\tKIND\tNAME\tVERSION")
			for _, g := range groups {
				for _, p := range g.Packages {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", g.License, p.Kind, p.Name, p.Version)
				}
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the groups as JSON")
	flags.add(cmd)
	return cmd
}

// licenseGroups are b's components by licence expression, sorted by it,
// NOASSERTION last.
func licenseGroups(b *sbom.BOM) []licenseGroup {
	var out []licenseGroup
	for expr, cs := range b.Licenses() {
		g := licenseGroup{License: expr}
		for _, c := range cs {
			name := c.Name
			if c.Group != "" {
				name = c.Group + ":" + c.Name
			}
			g.Packages = append(g.Packages, licensedPackage{Kind: c.Kind, Name: name, Version: c.Version, PURL: c.PURL, Declared: c.License.Declared})
		}
		out = append(out, g)
	}
	slices.SortFunc(out, func(x, y licenseGroup) int {
		if (x.License == sbom.NoAssertion) != (y.License == sbom.NoAssertion) {
			if x.License == sbom.NoAssertion {
				return 1
			}
			return -1
		}
		return strings.Compare(x.License, y.License)
	})
	return out
}

// deniedLicenses are lint findings, at the lock file, for the packages of
// every platform def locks whose licence sbom.Denied finds denied.
func deniedLicenses(ctx context.Context, def *spec.Definition, deny []string) ([]lint.Finding, error) {
	subdirs, err := buildplan.Subdirs(def)
	if err != nil {
		return nil, err
	}
	lockPath := filepath.Join(filepath.Dir(def.Source.Path), buildplan.LockFile)
	var out []lint.Finding
	for _, subdir := range subdirs {
		b, err := bomOf(ctx, def, bomFlags{subdir: subdir})
		if err != nil {
			return nil, err
		}
		for _, c := range b.Components {
			if sbom.Denied(c.License.Expression, deny) {
				out = append(out, lint.Finding{
					Rule: RuleLicenseDenied, Severity: lint.Error, Pos: spec.Pos{File: lockPath},
					Message: fmt.Sprintf("%s: %s package %s %s is licensed %s, which --deny %s refuses", subdir, c.Kind, c.Name, c.Version, c.License.Expression, strings.Join(deny, ",")),
				})
			}
		}
	}
	return out, nil
}
