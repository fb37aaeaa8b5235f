package llb

import (
	"context"
	"encoding/json"
	"os"
	"sort"
	"testing"

	"github.com/moby/buildkit/client/llb"

	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/envkit/envkit/internal/conformance"
)

// manyPackages takes n real records (with sha256, one per name) from
// Anaconda's index in the conformance data, as an n-package lock would
// pin them.
func manyPackages(tb testing.TB, n int) []*repodata.Record {
	dt, err := os.ReadFile(conformance.Dir(tb, "repodata", "conda-index4.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var index map[string]*repodata.Record
	if err := json.Unmarshal(dt, &index); err != nil {
		tb.Fatal(err)
	}
	names := make([]string, 0, len(index))
	for fn := range index {
		names = append(names, fn)
	}
	sort.Strings(names)
	seen := map[string]bool{}
	var out []*repodata.Record
	for _, fn := range names {
		r := index[fn]
		if r.SHA256 == "" || seen[r.Name] || r.Noarch == "python" {
			continue
		}
		seen[r.Name] = true
		r.Filename = fn
		r.URL = "https://repo.anaconda.com/pkgs/main/" + r.Subdir + "/" + fn
		out = append(out, r)
		if len(out) == n {
			return out
		}
	}
	tb.Fatalf("only %d usable records", len(out))
	return nil
}

// BenchmarkBuild100Packages is the frontend's own work between reading the
// lock and submitting the solve: conversion and marshalling of a
// 100-package environment (a layer each).
func BenchmarkBuild100Packages(b *testing.B) { benchmarkBuild(b, 100) }

// BenchmarkBuild300Packages is the same for 300 packages, beyond the
// default budget: 100 groups, one link step each.
func BenchmarkBuild300Packages(b *testing.B) { benchmarkBuild(b, 300) }

func benchmarkBuild(b *testing.B, n int) {
	benchmarkBuildEnvironment(b, Environment{BaseImage: "busybox:1.36", Prefix: "/opt/conda", Packages: manyPackages(b, n)})
}

// benchmarkBuildEnvironment measures Build and marshalling of env for
// linux/amd64, down to the protobuf BuildKit is sent.
func benchmarkBuildEnvironment(b *testing.B, env Environment) {
	opts := baseOptions(amd64)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		res, err := Build(ctx, env, opts)
		if err != nil {
			b.Fatal(err)
		}
		def, err := res.State.Marshal(ctx, llb.Platform(amd64))
		if err != nil {
			b.Fatal(err)
		}
		_ = def.ToPB()
	}
}
