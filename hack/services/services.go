// Package services starts and stops the project's local build services,
// all on 127.0.0.1 with their state in one directory: an OCI registry
// (Debian's docker-registry), a rootful buildkitd whose docker.io is
// mirrored to that registry, and a conda channel server. make services-up,
// make demo and the integration tests use it.
package services

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/envkit/envkit/internal/buildkitd"
)

// Options say where and how to run the services.
type Options struct {
	// StateDir holds every service's state, logs and pid files.
	StateDir string
	// BuildkitdBinary is the buildkitd to run ("" finds one).
	BuildkitdBinary string
	// RegistryPort and ChannelPort are 127.0.0.1 ports; 0 picks free ones.
	RegistryPort, ChannelPort int
	// Channels maps a URL path prefix to the directory served under it.
	Channels map[string]string
	// ChannelServer is the command that serves the channels (it gets
	// "--addr HOST:PORT" and "--root NAME=DIR" arguments); the channel
	// server runs as its own process so it outlives `up`.
	ChannelServer []string
	// Timeout bounds each service's start (default 60s).
	Timeout time.Duration
}

// Env is what the running services are reached at.
type Env struct {
	Registry     string // host:port
	BuildkitHost string // unix:// address
	ChannelURL   string // http://host:port, channels under /NAME
	StateDir     string
}

// Vars are the shell variables `envkit-dev env` prints and Up writes to
// services.env.
func (e Env) Vars() []string {
	return []string{
		"ENVKIT_REGISTRY=" + e.Registry,
		"BUILDKIT_HOST=" + e.BuildkitHost,
		"ENVKIT_CHANNEL_URL=" + e.ChannelURL,
	}
}

const envFile = "services.env"

// Up starts what is not running yet and returns the addresses. A service
// that fails stops the ones Up started, and the error carries its log tail.
func Up(ctx context.Context, o Options) (Env, error) {
	if o.Timeout == 0 {
		o.Timeout = 60 * time.Second
	}
	if err := os.MkdirAll(o.StateDir, 0o755); err != nil {
		return Env{}, err
	}
	if env, err := Read(o.StateDir); err == nil && allRunning(o.StateDir) {
		return env, nil
	}
	Down(o.StateDir)

	env := Env{StateDir: o.StateDir}
	var err error
	if env.Registry, err = startRegistry(ctx, o); err != nil {
		return Env{}, err
	}
	if env.ChannelURL, err = startChannels(ctx, o); err != nil {
		Down(o.StateDir)
		return Env{}, err
	}
	env.BuildkitHost, err = buildkitd.Start(ctx, buildkitd.Config{
		StateDir:        filepath.Join(o.StateDir, "buildkitd"),
		Binary:          o.BuildkitdBinary,
		DockerHubMirror: env.Registry,
		StartTimeout:    o.Timeout,
	})
	if err != nil {
		Down(o.StateDir)
		return Env{}, err
	}
	vars := strings.Join(env.Vars(), "\n") + "\n"
	if err := os.WriteFile(filepath.Join(o.StateDir, envFile), []byte(vars), 0o644); err != nil {
		Down(o.StateDir)
		return Env{}, err
	}
	return env, nil
}

// Read returns the addresses recorded by the last Up of stateDir.
func Read(stateDir string) (Env, error) {
	b, err := os.ReadFile(filepath.Join(stateDir, envFile))
	if err != nil {
		return Env{}, fmt.Errorf("services not started in %s (make services-up): %w", stateDir, err)
	}
	env := Env{StateDir: stateDir}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, "=")
		switch k {
		case "ENVKIT_REGISTRY":
			env.Registry = v
		case "BUILDKIT_HOST":
			env.BuildkitHost = v
		case "ENVKIT_CHANNEL_URL":
			env.ChannelURL = v
		}
	}
	return env, nil
}

// Down stops every service of stateDir; it is safe to call when none runs.
func Down(stateDir string) error {
	var errs []error
	if err := buildkitd.Stop(filepath.Join(stateDir, "buildkitd"), 20*time.Second); err != nil && !errors.Is(err, buildkitd.ErrNotRunning) {
		errs = append(errs, err)
	}
	for _, name := range []string{"registry", "channels"} {
		if err := stopProcess(filepath.Join(stateDir, name+".pid"), 10*time.Second); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	os.Remove(filepath.Join(stateDir, envFile))
	return errors.Join(errs...)
}

func allRunning(stateDir string) bool {
	_, bk := buildkitd.Running(filepath.Join(stateDir, "buildkitd"))
	return bk && pidAlive(filepath.Join(stateDir, "registry.pid")) && pidAlive(filepath.Join(stateDir, "channels.pid"))
}

func startRegistry(ctx context.Context, o Options) (string, error) {
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		return "", errors.New("docker-registry is not installed: apt-get install docker-registry (or make tools)")
	}
	addr, err := listenAddr("registry", o.RegistryPort)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(o.StateDir, "registry")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	config := fmt.Sprintf(`version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
`, dir, addr)
	cfgPath := filepath.Join(o.StateDir, "registry.yml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o644); err != nil {
		return "", err
	}
	err = startProcess(ctx, o, "registry", []string{bin, "serve", cfgPath}, "http://"+addr+"/v2/")
	return addr, err
}

func startChannels(ctx context.Context, o Options) (string, error) {
	if len(o.ChannelServer) == 0 {
		return "", errors.New("no channel server command")
	}
	addr, err := listenAddr("channel server", o.ChannelPort)
	if err != nil {
		return "", err
	}
	args := append(append([]string(nil), o.ChannelServer...), "--addr", addr)
	names := make([]string, 0, len(o.Channels))
	for name := range o.Channels {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		args = append(args, "--root", name+"="+o.Channels[name])
	}
	err = startProcess(ctx, o, "channels", args, "http://"+addr+"/")
	return "http://" + addr, err
}

// listenAddr is 127.0.0.1:port, checked free, or a free port when port is 0.
func listenAddr(what string, port int) (string, error) {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return "", fmt.Errorf("%s: 127.0.0.1:%d is taken (%v); stop what listens there or choose another port", what, port, err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr, nil
}

// startProcess runs args detached with a pid file and a log in the state
// dir, and waits (bounded) until url answers 200.
func startProcess(ctx context.Context, o Options, name string, args []string, url string) error {
	logPath := filepath.Join(o.StateDir, name+".log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	pidPath := filepath.Join(o.StateDir, name+".pid")
	if err := os.WriteFile(pidPath, []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644); err != nil {
		cmd.Process.Kill()
		return err
	}
	deadline := time.Now().Add(o.Timeout)
	hc := &http.Client{Timeout: time.Second}
	for {
		select {
		case err := <-exited:
			os.Remove(pidPath)
			return fmt.Errorf("%s exited (%v) before answering; %s", name, err, buildkitd.LogTail(logPath))
		case <-ctx.Done():
			stopProcess(pidPath, 5*time.Second)
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if resp, err := hc.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			stopProcess(pidPath, 5*time.Second)
			return fmt.Errorf("%s did not answer on %s within %s; %s", name, url, o.Timeout, buildkitd.LogTail(logPath))
		}
	}
}

func readPid(pidPath string) int {
	b, err := os.ReadFile(pidPath)
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

func pidAlive(pidPath string) bool {
	pid := readPid(pidPath)
	return pid > 0 && syscall.Kill(pid, 0) == nil && !zombie(pid)
}

func zombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	i := strings.LastIndexByte(string(b), ')')
	return i >= 0 && i+2 < len(b) && b[i+2] == 'Z'
}

// stopProcess ends the process of pidPath: SIGTERM, SIGKILL after timeout.
func stopProcess(pidPath string, timeout time.Duration) error {
	pid := readPid(pidPath)
	defer os.Remove(pidPath)
	if pid <= 0 || !pidAlive(pidPath) {
		return nil
	}
	syscall.Kill(pid, syscall.SIGTERM)
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if zombie(pid) {
			return nil
		}
	}
	syscall.Kill(pid, syscall.SIGKILL)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if zombie(pid) {
			return nil
		}
	}
	return fmt.Errorf("pid %d survived SIGKILL", pid)
}
