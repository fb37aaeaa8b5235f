package services

import (
	"context"
	"os"
	"path/filepath"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
)

// RunIn runs script with /bin/sh in image through the BuildKit at addr —
// an LLB exec on the image, with the image's config (env, user, working
// directory) applied as a container would — and returns what the script
// wrote to $OUT/result. No container engine is needed to check an image.
func RunIn(ctx context.Context, addr, image, script string) (string, error) {
	c, err := client.New(ctx, addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	dest, err := os.MkdirTemp("", "envkit-run-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dest)
	_, err = c.Build(ctx, client.SolveOpt{
		Exports: []client.ExportEntry{{Type: client.ExporterLocal, OutputDir: dest}},
	}, "", func(ctx context.Context, gw gwclient.Client) (*gwclient.Result, error) {
		_, _, config, err := gw.ResolveImageConfig(ctx, image, sourceresolver.Opt{})
		if err != nil {
			return nil, err
		}
		st, err := llb.Image(image).WithImageConfig(config)
		if err != nil {
			return nil, err
		}
		out := st.Run(
			llb.Args([]string{"/bin/sh", "-c", script}),
			llb.AddEnv("OUT", "/out"),
			llb.IgnoreCache,
			llb.WithCustomName("run in "+image),
		).AddMount("/out", llb.Scratch())
		def, err := out.Marshal(ctx)
		if err != nil {
			return nil, err
		}
		return gw.Solve(ctx, gwclient.SolveRequest{Definition: def.ToPB()})
	}, nil)
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(filepath.Join(dest, "result"))
	if err != nil {
		return "", err
	}
	return string(b), nil
}
