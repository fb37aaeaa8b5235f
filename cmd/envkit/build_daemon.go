package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/envkit/envkit/internal/buildkitd"
)

func init() { commands = append(commands, newBuildkitdCmd) }

// Environment variables of envkit's managed buildkitd.
const (
	envBuildkitdState = "ENVKIT_BUILDKITD_STATE"  // its state directory
	envDockerMirror   = "ENVKIT_DOCKERHUB_MIRROR" // host:port serving docker.io images
)

// managedDaemon is envkit's own buildkitd configuration, from the
// environment.
func managedDaemon() (buildkitd.Config, error) {
	state := os.Getenv(envBuildkitdState)
	if state == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return buildkitd.Config{}, fmt.Errorf("no cache directory for envkit's buildkitd (set %s): %w", envBuildkitdState, err)
		}
		state = filepath.Join(cache, "envkit", "buildkitd")
	}
	return buildkitd.Config{StateDir: state, DockerHubMirror: os.Getenv(envDockerMirror)}, nil
}

// buildkitAddr is --addr, else $BUILDKIT_HOST, else the address of envkit's
// managed buildkitd, started when it does not run.
func buildkitAddr(ctx context.Context, stderr io.Writer, flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if env := os.Getenv("BUILDKIT_HOST"); env != "" {
		return env, nil
	}
	cfg, err := managedDaemon()
	if err != nil {
		return "", err
	}
	if _, running := buildkitd.Running(cfg.StateDir); !running {
		fmt.Fprintf(stderr, "envkit: starting a local buildkitd (state %s; envkit buildkitd stop ends it)\n", cfg.StateDir)
	}
	addr, err := buildkitd.Start(ctx, cfg)
	if err != nil {
		return "", fmt.Errorf("no BuildKit: %w", err)
	}
	return addr, nil
}

func newBuildkitdCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "buildkitd start|stop|status",
		Short: "Manage the local buildkitd that envkit build uses without --addr or BUILDKIT_HOST",
		Long: `buildkitd manages envkit's own rootful buildkitd (OCI worker on runc). Its state
is in $ENVKIT_BUILDKITD_STATE, else ~/.cache/envkit/buildkitd; with
$ENVKIT_DOCKERHUB_MIRROR=host:port, docker.io images are pulled from that
registry. envkit build starts it when needed and leaves it running for the
next build.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := managedDaemon()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			switch args[0] {
			case "start":
				addr, err := buildkitd.Start(cmd.Context(), cfg)
				if err != nil {
					return err
				}
				fmt.Fprintln(out, addr)
			case "stop":
				err := buildkitd.Stop(cfg.StateDir, 20*time.Second)
				if errors.Is(err, buildkitd.ErrNotRunning) {
					fmt.Fprintln(cmd.ErrOrStderr(), "envkit: buildkitd is not running")
					return nil
				}
				return err
			case "status":
				pid, ok := buildkitd.Running(cfg.StateDir)
				if !ok {
					fmt.Fprintf(out, "not running (state %s)\n", cfg.StateDir)
					return &exitError{3}
				}
				fmt.Fprintf(out, "running: pid %d, %s (log %s)\n", pid, cfg.Address(), cfg.LogFile())
			default:
				return usagef("envkit buildkitd: want start, stop or status, got %q", strings.Join(args, " "))
			}
			return nil
		},
	}
	return cmd
}
