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

// hundredPackages takes 100 real records (with sha256) from Anaconda's
// index in the conformance data, as a 100-package lock would pin them.
func hundredPackages(b *testing.B) []*repodata.Record {
	dt, err := os.ReadFile(conformance.Dir(b, "repodata", "conda-index4.json"))
	if err != nil {
		b.Fatal(err)
	}
	var index map[string]*repodata.Record
	if err := json.Unmarshal(dt, &index); err != nil {
		b.Fatal(err)
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
		if len(out) == 100 {
			return out
		}
	}
	b.Fatalf("only %d usable records", len(out))
	return nil
}

// BenchmarkBuild100Packages is the frontend's own work between reading the
// lock and submitting the solve: conversion and marshalling of a
// 100-package environment.
func BenchmarkBuild100Packages(b *testing.B) {
	env := Environment{BaseImage: "busybox:1.36", Prefix: "/opt/conda", Packages: hundredPackages(b)}
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
