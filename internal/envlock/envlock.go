// Package envlock derives a definition's lock inputs: what content_hash
// records of it, so a lock made by `envkit lock` and checked by the frontend
// agree.
package envlock

import (
	"github.com/envkit/envkit/internal/conda/channel"
	"github.com/envkit/envkit/internal/conda/lock"
	"github.com/envkit/envkit/internal/conda/virtual"
	"github.com/envkit/envkit/internal/pypi/pipenv"
	"github.com/envkit/envkit/internal/spec"
)

// Inputs are the definition's solve inputs as content_hash records them.
// The pip specs are all pip lines (the conda file's pip: part and the
// top-level pip list), so changing either stales the lock; so does the
// spark section. lookup gives
// CONDA_OVERRIDE_*: the client environment for the CLI, build arguments in
// the frontend.
func Inputs(def *spec.Definition, lookup func(string) (string, bool)) lock.Inputs {
	channels := def.Conda.ChannelNames()
	if len(channels) == 0 {
		channels = []string{channel.Default}
	}
	return lock.Inputs{
		Channels:         channels,
		Specs:            spec.Specs(def.Conda.Dependencies),
		PipSpecs:         pipSpecs(pipenv.Lines(def)),
		VirtualOverrides: virtual.Overrides(lookup),
		Spark:            sparkInputs(def.Spark),
	}
}

// pipSpecs are the pip lines as the lock records them (spec.PipKey): a
// changed constraint or wheel file stales the lock.
func pipSpecs(lines []spec.Requirement) []string {
	out := make([]string, len(lines))
	for i, q := range lines {
		out[i] = spec.PipKey(q)
	}
	return out
}

// sparkInputs are the spark section's lock inputs: the jars pinned in the
// lock (precache) and the spark-defaults.conf written from it follow from
// them, so changing any stales the lock.
func sparkInputs(s *spec.Spark) *lock.SparkInputs {
	if s == nil || len(s.Packages) == 0 {
		return nil
	}
	in := &lock.SparkInputs{Repositories: s.Repositories, Precache: s.Precache}
	for _, p := range s.Packages {
		in.Packages = append(in.Packages, p.Group+":"+p.Artifact+":"+p.Version)
	}
	return in
}
