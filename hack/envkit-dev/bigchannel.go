package main

import (
	"context"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/envkit/envkit/hack/fixtures"
)

// bigChannel makes the conda-forge-sized channel (fixtures.CondaForge)
// with the fixture packages mixed in, and prints how long it took and
// what it wrote. The channel server serves it as big-channel (monolithic)
// and big-channel-sharded.
func bigChannel(ctx context.Context, args []string) error {
	fs, _, fix := flags("big-channel")
	out := fs.String("out", "", "output directory (default: FIXTURES/"+fixtures.BigChannelDir+")")
	records := fs.Int("records", 0, "linux-64 records (default: conda-forge's shape)")
	fs.Parse(args)
	if *out == "" {
		*out = filepath.Join(*fix, fixtures.BigChannelDir)
	}
	spec := fixtures.CondaForge
	if *records > 0 {
		// Every subdir scaled alike: one knob for smaller runs.
		spec.Subdirs = slices.Clone(spec.Subdirs)
		scale := float64(*records) / float64(spec.Subdirs[0].Records)
		for i := range spec.Subdirs {
			s := &spec.Subdirs[i]
			s.Records, s.Names = max(1, int(float64(s.Records)*scale)), max(1, int(float64(s.Names)*scale))
		}
	}
	if err := fixtures.Build(ctx, *fix); err != nil {
		return err
	}
	start := time.Now()
	if err := spec.Generate(*out, filepath.Join(*fix, "channel")); err != nil {
		return err
	}
	fmt.Printf("%s in %s\n", *out, time.Since(start).Round(time.Millisecond))
	return printSizes(*out)
}

// printSizes prints each form's subdirs: the monolithic files' sizes,
// the index's and the shards' (count and total).
func printSizes(out string) error {
	for _, form := range slices.Sorted(maps.Keys(fixtures.Forms)) {
		subdirs, err := os.ReadDir(filepath.Join(out, form))
		if err != nil {
			return err
		}
		for _, sd := range subdirs {
			dir := filepath.Join(out, form, sd.Name())
			var line string
			for _, f := range []string{"repodata.json", "repodata.json.zst", "repodata_shards.msgpack.zst"} {
				if st, err := os.Stat(filepath.Join(dir, f)); err == nil {
					line += fmt.Sprintf(" %s %.1f MB", f, float64(st.Size())/1e6)
				}
			}
			n, total := 0, int64(0)
			filepath.WalkDir(filepath.Join(dir, "shards"), func(_ string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					if info, err := d.Info(); err == nil {
						n, total = n+1, total+info.Size()
					}
				}
				return nil
			})
			if n > 0 {
				line += fmt.Sprintf(" %d shards %.1f MB", n, float64(total)/1e6)
			}
			fmt.Printf("%s/%s:%s\n", form, sd.Name(), line)
		}
	}
	return nil
}
