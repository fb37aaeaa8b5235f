// Command envkit-dev runs the project's local build services and makes
// the offline fixtures (make services-up, services-down, fixtures, demo).
//
//	envkit-dev up [-state DIR] [-fixtures DIR]   start registry, channel server, buildkitd; push fixtures
//	envkit-dev down [-state DIR]                 stop them
//	envkit-dev env [-state DIR]                  print their addresses as shell variables
//	envkit-dev fixtures [-fixtures DIR]          build the fixtures
//	envkit-dev serve -addr A -root NAME=DIR...   the channel server (started by up)
//	envkit-dev run [-state DIR] IMAGE SCRIPT     run SCRIPT in IMAGE (an LLB exec), print $OUT/result
//	envkit-dev bench-build [-state DIR]          measure builds, write docs/benchmarks.md ## Build
//	envkit-dev big-channel [-out DIR]            make the conda-forge-sized channel (bigchannel.go)
//	envkit-dev ml-scale [-scale F]               make the ML-scale channel and environments (mlscale.go)
//	envkit-dev bench-ml [-state DIR]             measure them against the single-layer build (benchml.go)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/envkit/envkit/hack/fixtures"
	"github.com/envkit/envkit/hack/services"
	"github.com/envkit/envkit/internal/conformance"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "up":
		err = up(ctx, args)
	case "down":
		fs, state, _ := flags("down")
		fs.Parse(args)
		err = services.Down(*state)
	case "env":
		fs, state, _ := flags("env")
		fs.Parse(args)
		var env services.Env
		if env, err = services.Read(*state); err == nil {
			fmt.Println(strings.Join(env.Vars(), "\n"))
		}
	case "fixtures":
		fs, _, fix := flags("fixtures")
		fs.Parse(args)
		err = fixtures.Build(ctx, *fix)
	case "serve":
		err = serve(ctx, args)
	case "run":
		err = runCmd(ctx, args)
	case "bench-build":
		err = benchBuild(ctx, args)
	case "big-channel":
		err = bigChannel(ctx, args)
	case "ml-scale":
		err = mlScale(ctx, args)
	case "bench-ml":
		err = benchML(ctx, args)
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "envkit-dev:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: envkit-dev up|down|env|fixtures|serve|run|bench-build|big-channel|ml-scale|bench-ml [flags]")
	os.Exit(2)
}

// DefaultState and DefaultFixtures are under the user's cache directory,
// so services and fixtures survive across clones and runs.
func defaults() (state, fix string) {
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	return filepath.Join(cache, "envkit", "services"), filepath.Join(cache, "envkit", "fixtures")
}

func flags(name string) (*flag.FlagSet, *string, *string) {
	state, fix := defaults()
	fs := flag.NewFlagSet(name, flag.ExitOnError)
	return fs, fs.String("state", state, "services state directory"), fs.String("fixtures", fix, "fixtures directory")
}

func up(ctx context.Context, args []string) error {
	fs, state, fix := flags("up")
	buildkitd := fs.String("buildkitd", "", "buildkitd binary (default: beside this program, then PATH)")
	registryPort := fs.Int("registry-port", 0, "registry port on 127.0.0.1 (0: a free one)")
	channelPort := fs.Int("channel-port", 0, "channel server port on 127.0.0.1 (0: a free one)")
	fs.Parse(args)
	if err := fixtures.Build(ctx, *fix); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	channels, err := Channels(*fix)
	if err != nil {
		return err
	}
	bk := *buildkitd
	if bk == "" {
		if p := filepath.Join(filepath.Dir(self), "buildkitd"); fileExists(p) {
			bk = p
		}
	}
	env, err := services.Up(ctx, services.Options{
		StateDir:        *state,
		BuildkitdBinary: bk,
		RegistryPort:    *registryPort,
		ChannelPort:     *channelPort,
		Channels:        channels,
		ChannelServer:   []string{self, "serve"},
	})
	if err != nil {
		return err
	}
	if err := fixtures.Push(ctx, *fix, env.Registry); err != nil {
		return err
	}
	fmt.Println(strings.Join(env.Vars(), "\n"))
	return nil
}

// Channels are what the channel server serves: the conformance channels
// and the fixture channel, each under its own name, and the fixture wheel
// index and Maven repository under /pypi (pip's index at /pypi/simple).
func Channels(fixturesDir string) (map[string]string, error) {
	dir, err := conformanceChannels()
	if err != nil {
		return nil, err
	}
	m := map[string]string{
		fixtures.ChannelName: filepath.Join(fixturesDir, "channel"),
		"pypi":               filepath.Join(fixturesDir, fixtures.PipDirName),
	}
	maps.Copy(m, fixtures.BigChannelRoots(fixturesDir))
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e.IsDir() {
			m[e.Name()] = filepath.Join(dir, e.Name())
		}
	}
	return m, nil
}

func conformanceChannels() (string, error) {
	d, ok := conformance.Find()
	if !ok {
		return "", errors.New("conformance data not found: run from the repository or set " + conformance.Env)
	}
	return filepath.Join(d, "channels"), nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// serve is the channel server: plain HTTP file serving (with
// Last-Modified and ranges) of each root under /NAME/.
func serve(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	var roots rootsFlag
	fs.Var(&roots, "root", "NAME=DIR, served under /NAME/ (repeatable)")
	fs.Parse(args)
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		for _, name := range roots.names {
			fmt.Fprintf(w, "%s/\n", name)
		}
	})
	for i, name := range roots.names {
		mux.Handle("/"+name+"/", http.StripPrefix("/"+name, http.FileServer(http.Dir(roots.dirs[i]))))
	}
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shut)
	}()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

type rootsFlag struct{ names, dirs []string }

func (r *rootsFlag) String() string { return strings.Join(r.names, ",") }
func (r *rootsFlag) Set(v string) error {
	name, dir, ok := strings.Cut(v, "=")
	if !ok || name == "" || strings.Contains(name, "/") {
		return fmt.Errorf("want NAME=DIR, got %q", v)
	}
	r.names, r.dirs = append(r.names, name), append(r.dirs, dir)
	return nil
}

// runCmd runs a shell script in an image through the services' BuildKit
// and prints what it wrote to $OUT/result.
func runCmd(ctx context.Context, args []string) error {
	fs, state, _ := flags("run")
	fs.Parse(args)
	if fs.NArg() != 2 {
		return errors.New("usage: envkit-dev run [-state DIR] IMAGE SCRIPT")
	}
	env, err := services.Read(*state)
	if err != nil {
		return err
	}
	out, err := services.RunIn(ctx, env.BuildkitHost, fs.Arg(0), fs.Arg(1))
	if err != nil {
		return err
	}
	fmt.Print(out)
	return nil
}
