package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// version is set at link time (-ldflags "-X main.version=...").
var version = "dev"

// usageError marks errors in how the command was called (exit status 2).
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, a ...any) error {
	return &usageError{fmt.Errorf(format, a...)}
}

// exitError carries an exit status for a failure whose message has already
// been printed (e.g. a list of validation errors).
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "envkit",
		Short: "Reproducible ML environments (conda, pip, Azure ML YAML) built on BuildKit",
		Long: `envkit reads environment definitions (envkit YAML, Azure ML v1/v2, conda
environment.yml), hashes them, solves and locks their conda part natively, and
builds them into OCI images through BuildKit.`,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &usageError{err}
	})
	for _, add := range commands {
		root.AddCommand(add())
	}
	return root
}

// commands is filled by the init functions of the per-command files, so each
// command lives in its own file without editing this one.
var commands []func() *cobra.Command

// exactArgs is cobra.ExactArgs returning a usage error.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s: expected %d argument(s), got %d", cmd.CommandPath(), n, len(args))
		}
		return nil
	}
}
