package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"

	"github.com/envkit/envkit/hack/privateserver"
	"github.com/envkit/envkit/internal/buildkitd"
)

// envkit's managed buildkitd gets the user's proxy and CA settings: an
// HTTP source on an HTTPS server with a private CA (given only by
// REQUESTS_CA_BUNDLE, which Go does not read: the daemon needs envkit's
// bundle) whose name resolves nowhere but through the proxy (HTTPS_PROXY)
// is fetched by the daemon itself. A later start under other settings
// says the running daemon has others.
func TestManagedDaemonNetwork(t *testing.T) {
	if testing.Short() || os.Geteuid() != 0 {
		t.Skip("needs root and a buildkitd")
	}
	if buildkitd.FindBinary() == "" {
		bin, _ := filepath.Abs("../../bin/buildkitd")
		if _, err := os.Stat(bin); err != nil {
			t.Skip("no buildkitd (make tools builds bin/buildkitd)")
		}
		t.Setenv("ENVKIT_BUILDKITD", bin)
	}
	privateIsolate(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("from the private server"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := privateserver.Start(t, privateserver.NewCA(t), privateserver.Access{}, map[string]http.Handler{"/": privateserver.Dir(dir)})
	proxy := privateserver.StartProxy(t, "", "")
	t.Setenv("REQUESTS_CA_BUNDLE", srv.CA.File)
	t.Setenv("HTTPS_PROXY", proxy.URL)
	state := t.TempDir()
	t.Setenv(envBuildkitdState, state)
	cfg, err := managedDaemon()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var stderr bytes.Buffer
	addr, err := startManaged(ctx, &stderr, cfg)
	t.Cleanup(func() { buildkitd.Stop(state, 20*time.Second) })
	if err != nil {
		t.Fatal(err)
	}
	pid, ok := buildkitd.Running(state)
	if !ok {
		t.Fatal("no daemon runs")
	}
	environ, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	bundle := filepath.Join(state, "ca-bundle.pem")
	if !bytes.Contains(environ, []byte("\x00SSL_CERT_FILE="+bundle+"\x00")) || !bytes.Contains(environ, []byte("HTTPS_PROXY="+proxy.URL)) {
		t.Errorf("the daemon's environment lacks SSL_CERT_FILE=%s or HTTPS_PROXY", bundle)
	}

	c, err := client.New(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	def, err := llb.HTTP("https://"+privateserver.Name+":"+srv.Port+"/f", llb.Filename("f")).Marshal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if _, err := c.Solve(ctx, def, client.SolveOpt{Exports: []client.ExportEntry{{Type: client.ExporterLocal, OutputDir: out}}}, nil); err != nil {
		t.Fatalf("the daemon's HTTP source: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(out, "f")); err != nil || string(b) != "from the private server" {
		t.Errorf("fetched %q, %v", b, err)
	}
	if got := proxy.Targets(); len(got) == 0 || got[0] != privateserver.Name+":"+srv.Port {
		t.Errorf("the proxy saw %v", got)
	}

	// The same settings: the daemon is reused silently; others: said.
	stderr.Reset()
	if _, err := startManaged(ctx, &stderr, cfg); err != nil || stderr.Len() != 0 {
		t.Errorf("reuse: %v %q", err, stderr.String())
	}
	t.Setenv("HTTPS_PROXY", "")
	if _, err := startManaged(ctx, &stderr, cfg); err != nil || !strings.Contains(stderr.String(), "has other proxy or CA settings") {
		t.Errorf("other settings: %v %q", err, stderr.String())
	}
}
