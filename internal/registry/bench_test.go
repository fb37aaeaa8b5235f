package registry

import (
	"context"
	"fmt"
	"testing"

	"github.com/envkit/envkit/internal/registry/registrytest"
)

// BenchmarkPushPull: a new version pushed (three files) and pulled back
// through the in-process registry on loopback: the client's requests, not
// the network.
func BenchmarkPushPull(b *testing.B) {
	ctx := context.Background()
	host := registrytest.Start(b, "", "")
	c := anonymous()
	i := 0
	for b.Loop() {
		i++
		res, err := c.Push(ctx, host+"/bench", testEnv(fmt.Sprintf("sha256:%x", i)), 0, pushTime)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := c.Pull(ctx, res.Ref); err != nil {
			b.Fatal(err)
		}
	}
}
