package llb

import (
	"context"
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb"
)

// FuzzBuildSteps feeds arbitrary custom steps, env values and prefixes to
// the conversion: it must return an error or a definition that marshals,
// never panic (the steps go through BuildKit's Dockerfile parser).
func FuzzBuildSteps(f *testing.F) {
	f.Add("RUN echo hello > /hello", "LANG", "C.UTF-8", "/opt/conda")
	f.Add("WORKDIR /work\nCOPY environment.yml /work/", "PATH", "/x:$PATH", "/opt/env")
	f.Add("ENV A=1 B=2\nUSER 1000:1000", "A", "", "/")
	f.Add("FROM scratch\nRUN x", "", "=", "relative")
	f.Add("ARG X\nRUN --mount=type=cache,target=/c echo $X", "X", "y", "/opt/conda")
	f.Fuzz(func(t *testing.T, steps, name, value, prefix string) {
		env := Environment{
			BaseImage: "busybox:1.36",
			Prefix:    prefix,
			Steps:     strings.Split(steps, "\n"),
			Env:       []EnvVar{{name, value}},
			Packages:  testRecipes(t, "dependency-1.0-0.conda"),
		}
		res, err := Build(context.Background(), env, baseOptions(amd64))
		if err != nil {
			return
		}
		if _, err := res.State.Marshal(context.Background(), llb.Platform(amd64)); err != nil {
			return
		}
	})
}
