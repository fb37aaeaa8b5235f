package services

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPortTaken(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	_, err = listenAddr("registry", port)
	if err == nil || !strings.Contains(err.Error(), "is taken") {
		t.Fatalf("listenAddr on a taken port = %v, want a clear message", err)
	}
}

// A service that exits at once fails Up with its log, and leaves no pid file.
func TestStartProcessExits(t *testing.T) {
	dir := t.TempDir()
	o := Options{StateDir: dir, Timeout: 10 * time.Second}
	err := startProcess(context.Background(), o, "channels", []string{"/bin/sh", "-c", "echo cannot bind >&2; exit 1"}, "http://127.0.0.1:1/")
	if err == nil || !strings.Contains(err.Error(), "cannot bind") {
		t.Fatalf("startProcess = %v, want the exit with the log tail", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "channels.pid")); err == nil {
		t.Error("pid file left behind")
	}
}

// A service that never answers is stopped after the bound.
func TestStartProcessTimeout(t *testing.T) {
	dir := t.TempDir()
	o := Options{StateDir: dir, Timeout: time.Second}
	err := startProcess(context.Background(), o, "channels", []string{"/bin/sh", "-c", "exec sleep 60"}, "http://127.0.0.1:1/")
	if err == nil || !strings.Contains(err.Error(), "did not answer") {
		t.Fatalf("startProcess = %v, want a timeout", err)
	}
	if pidAlive(filepath.Join(dir, "channels.pid")) {
		t.Error("the process still runs")
	}
}

func TestReadEnv(t *testing.T) {
	dir := t.TempDir()
	if _, err := Read(dir); err == nil || !strings.Contains(err.Error(), "make services-up") {
		t.Fatalf("Read without services = %v", err)
	}
	e := Env{Registry: "127.0.0.1:5000", BuildkitHost: "unix:///s/buildkitd.sock", ChannelURL: "http://127.0.0.1:8000", StateDir: dir}
	if err := os.WriteFile(filepath.Join(dir, envFile), []byte(strings.Join(e.Vars(), "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Read(dir)
	if err != nil || got != e {
		t.Fatalf("Read = %+v, %v; want %+v", got, err, e)
	}
}
