//go:build integration

package integration

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/envkit/envkit/hack/fixtures"
	"github.com/envkit/envkit/hack/services"
	"github.com/envkit/envkit/internal/conformance"
)

// env is what the tests reach: the services and the tools.
var env struct {
	services.Env
	bin      string // ./bin: envkit, buildkitd, buildctl, docker-buildx, envkit-dev
	fixtures string
	channel  string // the fixture channel's URL
}

func TestMain(m *testing.M) {
	os.Exit(setUp(m))
}

func setUp(m *testing.M) int {
	fail := func(format string, a ...any) int {
		fmt.Fprintf(os.Stderr, "integration: "+format+"\n", a...)
		return 1
	}
	root, err := filepath.Abs("..")
	if err != nil {
		return fail("%v", err)
	}
	env.bin = envOr("ENVKIT_BIN", filepath.Join(root, "bin"))
	for _, tool := range []string{"envkit", "buildkitd", "buildctl", "docker-buildx", "envkit-dev"} {
		if _, err := os.Stat(filepath.Join(env.bin, tool)); err != nil {
			return fail("%s missing in %s: run make tools build (make integration does)", tool, env.bin)
		}
	}
	cache, _ := os.UserCacheDir()
	env.fixtures = envOr("ENVKIT_FIXTURES", filepath.Join(cache, "envkit", "fixtures"))
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	if err := fixtures.Build(ctx, env.fixtures); err != nil {
		return fail("fixtures: %v", err)
	}
	// A short path: the buildkitd socket lives under it.
	state, err := os.MkdirTemp("", "ekit-")
	if err != nil {
		return fail("%v", err)
	}
	defer os.RemoveAll(state)
	conf, ok := conformance.Find()
	if !ok {
		return fail("conformance data not found (set %s)", conformance.Env)
	}
	channels := map[string]string{
		fixtures.ChannelName: filepath.Join(env.fixtures, "channel"),
		"test-recipes":       filepath.Join(conf, "channels", "test-recipes"),
		"pypi":               filepath.Join(env.fixtures, fixtures.PipDirName),
	}
	maps.Copy(channels, fixtures.BigChannelRoots(env.fixtures))
	upCtx, upCancel := context.WithTimeout(ctx, 3*time.Minute)
	defer upCancel()
	e, err := services.Up(upCtx, services.Options{
		StateDir:        state,
		BuildkitdBinary: filepath.Join(env.bin, "buildkitd"),
		Channels:        channels,
		ChannelServer:   []string{filepath.Join(env.bin, "envkit-dev"), "serve"},
	})
	if err != nil {
		return fail("services: %v", err)
	}
	defer func() {
		if err := services.Down(state); err != nil {
			fmt.Fprintln(os.Stderr, "integration: stopping services:", err)
		}
	}()
	env.Env = e
	env.channel = e.ChannelURL + "/" + fixtures.ChannelName
	if err := fixtures.Push(upCtx, env.fixtures, e.Registry); err != nil {
		return fail("%v", err)
	}
	return m.Run()
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
