package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/envkit/envkit/hack/fixtures"
)

// mlScale makes the ML-scale fixture (fixtures.MLScale) beside the other
// fixtures, or finds it made, and prints its shape and how long its
// generation took.
func mlScale(ctx context.Context, args []string) error {
	fs, _, fix := flags("ml-scale")
	scale := fs.Float64("scale", fixtures.MLDefault.Scale, "multiplies every archive's size (1: the issue's shape)")
	fs.Parse(args)
	if err := fixtures.Build(ctx, *fix); err != nil {
		return err
	}
	spec := fixtures.MLDefault
	spec.Scale = *scale
	dir := mlScaleDir(*fix, spec)
	shape, err := spec.Generate(dir, filepath.Join(*fix, "channel"))
	if err != nil {
		return err
	}
	fmt.Printf("%s: generated in %s\n", dir, shape.Generation)
	for _, c := range shape.Classes {
		fmt.Printf("  %-20s %3d archives %6d files %8.1f MB (%.1f MB unpacked), %.3f-%.1f MB each\n",
			c.Class, c.Archives, c.Files, float64(c.Bytes)/1e6, float64(c.Unpacked)/1e6, float64(c.MinBytes)/1e6, float64(c.MaxBytes)/1e6)
	}
	return nil
}

// mlScaleDir is where spec's fixture lives: the full shape at
// FIXTURES/ml-scale, smaller ones beside it.
func mlScaleDir(fix string, spec fixtures.MLScale) string {
	if spec.Scale == fixtures.MLDefault.Scale {
		return filepath.Join(fix, fixtures.MLScaleDir)
	}
	return filepath.Join(fix, fmt.Sprintf("%s-%g", fixtures.MLScaleDir, spec.Scale))
}
