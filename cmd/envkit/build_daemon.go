package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/envkit/envkit/internal/buildkitd"
	"github.com/envkit/envkit/internal/netfetch"
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
	addr, err := startManaged(ctx, stderr, cfg)
	if err != nil {
		return "", fmt.Errorf("no BuildKit: %w", err)
	}
	return addr, nil
}

// networkStamp is the file beside the managed daemon holding the digest
// of the network settings it was started with.
const networkStamp = "envkit-network"

// startManaged starts the managed daemon with the user's network settings,
// or says so when the one running has others, and returns its address.
// The daemon inherits the proxy variables; when CA certificates are named
// (SSL_CERT_FILE, REQUESTS_CA_BUNDLE, conda's ssl_verify…: what envkit's
// own downloads trust), it gets one bundle of the system's CAs and those
// as its SSL_CERT_FILE, so its HTTP sources and registry pulls trust the
// same servers as envkit lock does.
func startManaged(ctx context.Context, stderr io.Writer, cfg buildkitd.Config) (string, error) {
	bundle, err := netfetch.CABundle()
	if err != nil {
		return "", err
	}
	digest := networkDigest(bundle)
	stamp := filepath.Join(cfg.StateDir, networkStamp)
	if pid, running := buildkitd.Running(cfg.StateDir); running {
		if old, _ := os.ReadFile(stamp); string(old) != digest {
			fmt.Fprintf(stderr, "envkit: the running buildkitd (pid %d) has other proxy or CA settings than this shell; envkit buildkitd stop, and the next build starts it with these\n", pid)
		}
		return buildkitd.Start(ctx, cfg)
	}
	fmt.Fprintf(stderr, "envkit: starting a local buildkitd (state %s; envkit buildkitd stop ends it)\n", cfg.StateDir)
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return "", err
	}
	if bundle != nil {
		p := filepath.Join(cfg.StateDir, "ca-bundle.pem")
		if err := os.WriteFile(p, bundle, 0o644); err != nil {
			return "", err
		}
		cfg.Env = append(cfg.Env, "SSL_CERT_FILE="+p)
	}
	if err := os.WriteFile(stamp, []byte(digest), 0o600); err != nil {
		return "", err
	}
	return buildkitd.Start(ctx, cfg)
}

// networkDigest identifies the network settings a daemon gets: the proxy
// variables and the CA bundle; "" for none, as a daemon started before
// envkit kept a stamp had. A digest, so no proxy password is written.
func networkDigest(bundle []byte) string {
	h := sha256.New()
	set := bundle != nil
	for _, v := range netfetch.ProxyVars {
		if val := os.Getenv(v); val != "" {
			fmt.Fprintf(h, "%s=%s\n", v, val)
			set = true
		}
	}
	if !set {
		return ""
	}
	h.Write(bundle)
	return hex.EncodeToString(h.Sum(nil))
}

func newBuildkitdCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "buildkitd start|stop|status",
		Short: "Manage the local buildkitd that envkit build uses without --addr or BUILDKIT_HOST",
		Long: `buildkitd manages envkit's own rootful buildkitd (OCI worker on runc). Its state
is in $ENVKIT_BUILDKITD_STATE, else ~/.cache/envkit/buildkitd; with
$ENVKIT_DOCKERHUB_MIRROR=host:port, docker.io images are pulled from that
registry. envkit build starts it when needed and leaves it running for the
next build. It starts with this shell's proxy variables and the CA
certificates envkit's downloads trust (docs/private-channels.md); stop it
to apply new ones.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := managedDaemon()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			switch args[0] {
			case "start":
				addr, err := startManaged(cmd.Context(), cmd.ErrOrStderr(), cfg)
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
