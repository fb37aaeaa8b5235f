//go:build integration

package integration

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestHarnessLLBOnBusybox proves the harness: docker.io resolves through
// the mirror to the fixture image in the local registry, and runc runs a
// step in it.
func TestHarnessLLBOnBusybox(t *testing.T) {
	got := runIn(t, "docker.io/library/busybox:latest", `echo "hello from $(uname -s)" > $OUT/result`)
	if got != "hello from Linux\n" {
		t.Fatalf("result %q", got)
	}
}

// TestHarnessDebianBase checks the Debian fixture base: busybox userland
// over Debian's libc, under the name examples use.
func TestHarnessDebianBase(t *testing.T) {
	got := runIn(t, "docker.io/library/debian:bookworm-slim", `ls /lib/x86_64-linux-gnu/libc.so.6 > $OUT/result && cat /etc/debian_version >> $OUT/result`)
	if !strings.HasPrefix(got, "/lib/x86_64-linux-gnu/libc.so.6\n12.") {
		t.Fatalf("result %q", got)
	}
}

// TestHarnessChannel checks the channel server serves the fixture
// channel's repodata.
func TestHarnessChannel(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, subdir := range []string{"linux-64", "noarch"} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, env.channel+"/"+subdir+"/repodata.json", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Last-Modified") == "" {
			t.Errorf("%s: %s, Last-Modified %q", req.URL, resp.Status, resp.Header.Get("Last-Modified"))
		}
	}
}
