package buildkitd

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestTOML(t *testing.T) {
	cfg := Config{
		StateDir:        "/var/cache/envkit/buildkitd",
		DockerHubMirror: "127.0.0.1:5000",
		HTTPRegistries:  []string{"127.0.0.1:5000", "registry.internal:80"},
		Snapshotter:     "native",
	}
	got := cfg.TOML()
	golden := filepath.Join("testdata", "buildkitd.toml")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("TOML() =\n%s\nwant (%s)\n%s", got, golden, want)
	}
}

func TestZombie(t *testing.T) {
	for stat, want := range map[string]bool{
		"123 (buildkitd) S 1 123":       false,
		"123 (buildkitd) Z 1 123":       true,
		"123 (a) b) Z 1":                true, // comm may hold ')'
		"123 (buildkitd":                false,
		"42 (runc:[2:INIT]) R 41 42 42": false,
	} {
		if got := zombie([]byte(stat)); got != want {
			t.Errorf("zombie(%q) = %v, want %v", stat, got, want)
		}
	}
}

func TestUnescapeMount(t *testing.T) {
	if got := unescapeMount(`/tmp/a\040b/c`); got != "/tmp/a b/c" {
		t.Errorf("got %q", got)
	}
	if got := unescapeMount(`/plain`); got != "/plain" {
		t.Errorf("got %q", got)
	}
}

func TestPreflightRunc(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the runc check comes after the root check")
	}
	t.Setenv("PATH", t.TempDir())
	err := Preflight("/bin/true")
	if err == nil || !strings.Contains(err.Error(), "apt-get install runc") {
		t.Fatalf("Preflight without runc = %v, want the install hint", err)
	}
}

func TestPreflightBinary(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the binary check comes after the root check")
	}
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "runc"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin)
	err := Preflight("")
	if err == nil || !strings.Contains(err.Error(), "make tools") {
		t.Fatalf("Preflight without buildkitd = %v, want the make tools hint", err)
	}
}

// fakeDaemon writes a script standing in for buildkitd, named so the pid
// check recognises it.
func fakeDaemon(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "buildkitd")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestStartDaemonExits(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	withRunc(t)
	dir := shortTempDir(t)
	cfg := Config{StateDir: dir, Binary: fakeDaemon(t, "echo 'failed to mount overlay: boom' >&2; exit 3")}
	_, err := Start(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "boom") || !strings.Contains(err.Error(), "exited") {
		t.Fatalf("Start = %v, want the exit and the log tail", err)
	}
	if _, ok := Running(dir); ok {
		t.Error("a pid file survived the failed start")
	}
}

func TestStartTimeoutLeavesNoProcess(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	withRunc(t)
	dir := shortTempDir(t)
	cfg := Config{StateDir: dir, Binary: fakeDaemon(t, "echo listening nowhere; exec sleep 60"), StartTimeout: time.Second}
	start := time.Now()
	_, err := Start(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "did not answer") || !strings.Contains(err.Error(), "listening nowhere") {
		t.Fatalf("Start = %v, want a timeout with the log tail", err)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("Start took %s past its 1s bound", d)
	}
	if _, ok := Running(dir); ok {
		t.Error("the daemon still runs after the failed start")
	}
}

func TestStopNotRunning(t *testing.T) {
	if err := Stop(t.TempDir(), time.Second); err != ErrNotRunning {
		t.Fatalf("Stop = %v, want ErrNotRunning", err)
	}
}

func withRunc(t *testing.T) {
	t.Helper()
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "runc"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
}

// shortTempDir keeps the socket path under the unix limit.
func shortTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "bk")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}
