// Package buildkitd runs a local, rootful buildkitd (OCI worker on runc)
// whose whole state — root, socket, config, pid file and log — lives in one
// directory. It is what `envkit build` uses when no BuildKit address is
// given, and what the project's services and integration tests start.
//
// The daemon outlives the process that started it (its own session), so a
// later build reuses it; Stop ends it and unmounts what it left mounted.
package buildkitd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/moby/buildkit/client"
)

// Files inside a state directory.
const (
	socketName = "buildkitd.sock"
	configName = "buildkitd.toml"
	pidName    = "buildkitd.pid"
	logName    = "buildkitd.log"
	rootName   = "root"
)

// Config describes one daemon.
type Config struct {
	// StateDir holds everything the daemon writes. Its path must be short
	// enough for a unix socket (about 100 bytes).
	StateDir string
	// Binary is the buildkitd executable; empty means FindBinary.
	Binary string
	// DockerHubMirror ("127.0.0.1:PORT") serves docker.io images, so
	// definitions can name real images offline.
	DockerHubMirror string
	// HTTPRegistries are registries reached over plain HTTP
	// (127.0.0.1 ones need nothing, but a mirror needs its entry).
	HTTPRegistries []string
	// Snapshotter is overlayfs, native or auto (default auto: overlayfs
	// where the kernel allows it).
	Snapshotter string
	// StartTimeout bounds the wait for the daemon to answer (default 60s).
	StartTimeout time.Duration
	// Env is added to the environment the daemon inherits (network
	// settings: SSL_CERT_FILE for a private CA).
	Env []string
}

// Address is the daemon's BuildKit address.
func (c Config) Address() string { return "unix://" + filepath.Join(c.StateDir, socketName) }

// LogFile is where the daemon's output goes.
func (c Config) LogFile() string { return filepath.Join(c.StateDir, logName) }

// TOML is the daemon's buildkitd.toml.
func (c Config) TOML() string {
	snap := c.Snapshotter
	if snap == "" {
		snap = "auto"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "root = %q\n\n[grpc]\n  address = [%q]\n\n", filepath.Join(c.StateDir, rootName), c.Address())
	// GC stays on with BuildKit's default budget: a managed daemon lives long.
	fmt.Fprintf(&b, "[worker.oci]\n  enabled = true\n  snapshotter = %q\n\n[worker.containerd]\n  enabled = false\n", snap)
	if c.DockerHubMirror != "" {
		fmt.Fprintf(&b, "\n[registry.\"docker.io\"]\n  mirrors = [%q]\n", c.DockerHubMirror)
	}
	regs := append([]string(nil), c.HTTPRegistries...)
	if c.DockerHubMirror != "" {
		regs = append(regs, c.DockerHubMirror)
	}
	sort.Strings(regs)
	for i, r := range regs {
		if i > 0 && regs[i-1] == r {
			continue
		}
		fmt.Fprintf(&b, "\n[registry.%q]\n  http = true\n  insecure = true\n", r)
	}
	return b.String()
}

// ErrNotRunning is returned by Stop when no daemon runs for the state dir.
var ErrNotRunning = errors.New("buildkitd is not running")

// Preflight reports, with the fix, why a rootful buildkitd cannot run here.
func Preflight(binary string) error {
	if os.Geteuid() != 0 {
		return errors.New("a local buildkitd needs root (its OCI worker runs runc rootful); run as root, " +
			"or point --addr or BUILDKIT_HOST at a running BuildKit (for example a rootless buildkitd, see BuildKit's docs/rootless.md)")
	}
	if _, err := exec.LookPath("buildkit-runc"); err != nil {
		if _, err := exec.LookPath("runc"); err != nil {
			return errors.New("buildkitd's OCI worker needs runc, which is not in PATH: install it (apt-get install runc, or make tools)")
		}
	}
	if binary == "" {
		return errors.New("buildkitd not found: run make tools (it builds bin/buildkitd), set ENVKIT_BUILDKITD to its path, " +
			"or point --addr or BUILDKIT_HOST at a running BuildKit")
	}
	return nil
}

// FindBinary looks for buildkitd in $ENVKIT_BUILDKITD, beside the running
// executable (./bin holds both after make tools), then in PATH; "" when
// none is found.
func FindBinary() string {
	if p := os.Getenv("ENVKIT_BUILDKITD"); p != "" {
		return p
	}
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), "buildkitd")
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
	}
	if p, err := exec.LookPath("buildkitd"); err == nil {
		return p
	}
	return ""
}

// Start returns the address of a daemon answering for cfg.StateDir: the
// running one when there is one, otherwise a new one. It fails with the
// tail of the daemon's log when the daemon exits or does not answer in
// time, leaving no process behind.
func Start(ctx context.Context, cfg Config) (string, error) {
	if cfg.Binary == "" {
		cfg.Binary = FindBinary()
	}
	if err := Preflight(cfg.Binary); err != nil {
		return "", err
	}
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return "", err
	}
	if len(cfg.Address()) > 100 {
		return "", fmt.Errorf("buildkitd state dir %s: path too long for a unix socket; choose a shorter one", cfg.StateDir)
	}
	if pid, ok := running(cfg.StateDir); ok {
		if answers(ctx, cfg.Address(), 5*time.Second) == nil {
			return cfg.Address(), nil
		}
		return "", fmt.Errorf("buildkitd (pid %d, state %s) runs but does not answer; stop it with envkit buildkitd stop or kill %d", pid, cfg.StateDir, pid)
	}
	// Leftovers of a daemon that died: a stale socket makes the new one fail.
	os.Remove(filepath.Join(cfg.StateDir, socketName))
	os.Remove(filepath.Join(cfg.StateDir, pidName))
	if err := os.WriteFile(filepath.Join(cfg.StateDir, configName), []byte(cfg.TOML()), 0o600); err != nil {
		return "", err
	}
	logf, err := os.OpenFile(cfg.LogFile(), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return "", err
	}
	defer logf.Close()
	cmd := exec.Command(cfg.Binary, "--config", filepath.Join(cfg.StateDir, configName))
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), cfg.Env...)
	// Its own session: a Ctrl-C on the build does not kill the shared daemon.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("starting buildkitd: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	if err := os.WriteFile(filepath.Join(cfg.StateDir, pidName), []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o600); err != nil {
		cmd.Process.Kill()
		return "", err
	}
	timeout := cfg.StartTimeout
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	deadline := time.Now().Add(timeout)
	for {
		select {
		case err := <-exited:
			os.Remove(filepath.Join(cfg.StateDir, pidName))
			return "", fmt.Errorf("buildkitd exited (%v) before answering; %s", err, LogTail(cfg.LogFile()))
		case <-ctx.Done():
			cfg.stopStarted(cmd, exited)
			return "", ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if answers(ctx, cfg.Address(), time.Second) == nil {
			return cfg.Address(), nil
		}
		if time.Now().After(deadline) {
			cfg.stopStarted(cmd, exited)
			return "", fmt.Errorf("buildkitd did not answer on %s within %s; %s", cfg.Address(), timeout, LogTail(cfg.LogFile()))
		}
	}
}

func (cfg Config) stopStarted(cmd *exec.Cmd, exited <-chan error) {
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-exited
	}
	os.Remove(filepath.Join(cfg.StateDir, pidName))
	unmountUnder(filepath.Join(cfg.StateDir, rootName))
}

// Stop ends the daemon of stateDir (SIGTERM, then SIGKILL after timeout),
// and unmounts whatever stayed mounted under its root so the directory can
// be removed.
func Stop(stateDir string, timeout time.Duration) error {
	pid, ok := running(stateDir)
	if !ok {
		os.Remove(filepath.Join(stateDir, pidName))
		unmountUnder(filepath.Join(stateDir, rootName))
		return ErrNotRunning
	}
	syscall.Kill(pid, syscall.SIGTERM)
	if !waitGone(pid, timeout) {
		syscall.Kill(pid, syscall.SIGKILL)
		if !waitGone(pid, 5*time.Second) {
			return fmt.Errorf("buildkitd (pid %d) survived SIGKILL", pid)
		}
	}
	os.Remove(filepath.Join(stateDir, pidName))
	os.Remove(filepath.Join(stateDir, socketName))
	return unmountUnder(filepath.Join(stateDir, rootName))
}

// Running reports the pid of the daemon of stateDir, if one runs.
func Running(stateDir string) (int, bool) { return running(stateDir) }

func running(stateDir string) (int, bool) {
	b, err := os.ReadFile(filepath.Join(stateDir, pidName))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	// The pid may have been reused by another program since.
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !bytes.Contains(cmdline, []byte("buildkitd")) {
		return 0, false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err == nil && zombie(stat) {
		return 0, false
	}
	return pid, true
}

// zombie reads the state field of /proc/PID/stat ("pid (comm) S ...").
func zombie(stat []byte) bool {
	i := bytes.LastIndexByte(stat, ')')
	return i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z'
}

func waitGone(pid int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil || zombie(stat) {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

// answers checks that the daemon at addr lists a worker within timeout.
func answers(ctx context.Context, addr string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, err := client.New(ctx, addr)
	if err != nil {
		return err
	}
	defer c.Close()
	ws, err := c.ListWorkers(ctx)
	if err != nil {
		return err
	}
	if len(ws) == 0 {
		return errors.New("no worker")
	}
	return nil
}

// LogTail is the end of a service's log, for error messages.
func LogTail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "no log at " + path
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return "last lines of " + path + ":\n  " + strings.Join(lines, "\n  ")
}

// unmountUnder detaches every mount below dir, deepest first.
func unmountUnder(dir string) error {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	var mounts []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && strings.HasPrefix(unescapeMount(f[4]), dir+"/") {
			mounts = append(mounts, unescapeMount(f[4]))
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(mounts)))
	var errs []error
	for _, m := range mounts {
		if err := syscall.Unmount(m, syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) {
			errs = append(errs, fmt.Errorf("unmount %s: %w", m, err))
		}
	}
	return errors.Join(errs...)
}

// unescapeMount decodes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
