package main

import (
	"github.com/moby/buildkit/frontend/gateway/grpcclient"
	"github.com/moby/buildkit/util/appcontext"
	_ "github.com/moby/buildkit/util/grpcutil/encoding/proto" // the gateway's wire encoding
	"github.com/spf13/cobra"

	"github.com/envkit/envkit/frontend"
)

func init() { commands = append(commands, newFrontendCmd) }

// newFrontendCmd is the entrypoint of envkit's frontend image: BuildKit's
// gateway runs it with the build's options in the environment and speaks
// gRPC over stdio.
func newFrontendCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "frontend",
		Short:  "Run as a BuildKit gateway frontend (the envkit image's entrypoint)",
		Hidden: true,
		Args:   exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			frontend.Version = version
			return grpcclient.RunFromEnvironment(appcontext.Context(), frontend.Build)
		},
	}
}
