package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/envkit/envkit/internal/conda/pkg"
	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/envkit/envkit/internal/conda/shards"
)

func init() { commands = append(commands, newIndexCmd) }

func newIndexCmd() *cobra.Command {
	var shardsOnly bool
	cmd := &cobra.Command{
		Use:   "index [--shards-only] DIR",
		Short: "Index a directory of conda packages as a channel (repodata.json, .zst and CEP 16 shards)",
		Long: `index turns a directory of conda packages laid out as DIR/<subdir>/*.conda
and *.tar.bz2 into a channel, as conda-index does: for each subdir (noarch
always) it writes repodata.json, repodata.json.zst and CEP 16 sharded
repodata (repodata_shards.msgpack.zst and shards/<sha256>.msgpack.zst).

Each archive is read in full with the installer's streaming reader; its
record is its info/index.json with size, md5 and sha256 added. The output
is byte-for-byte deterministic (timestamps come from the archives, never the
clock). Every archive is read before anything is written: a damaged one is
named and the channel is left as it was.`,
		Example: `  envkit index ./my-channel
  envkit index --shards-only /srv/conda/private`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			form := shards.Sharded | shards.Monolithic
			if shardsOnly {
				form = shards.Sharded
			}
			subdirs, err := indexChannel(cmd.Context(), args[0], form)
			for _, s := range subdirs {
				fmt.Fprintf(cmd.OutOrStdout(), "%s: %d packages, %d names\n", s.name, s.packages, s.names)
			}
			return err
		},
	}
	cmd.Flags().BoolVar(&shardsOnly, "shards-only", false, "write only the CEP 16 shards and their index, no repodata.json")
	return cmd
}

// indexedSubdir is one subdir's summary.
type indexedSubdir struct {
	name            string
	packages, names int
	records         map[string]map[string]shards.Raw // name → filename → record
}

// indexChannel indexes dir's subdirs: every archive is read (and
// checked) first, then each subdir is written in form.
func indexChannel(ctx context.Context, dir string, form shards.Form) ([]indexedSubdir, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	names := []string{"noarch"} // a channel always has noarch
	for _, e := range entries {
		if e.IsDir() && e.Name() != "noarch" && !strings.HasPrefix(e.Name(), ".") {
			archives, err := archivesIn(filepath.Join(dir, e.Name()))
			if err != nil {
				return nil, err
			}
			if len(archives) > 0 {
				names = append(names, e.Name())
			}
		}
	}
	slices.Sort(names)
	var subdirs []indexedSubdir
	for _, name := range names {
		s, err := readSubdir(ctx, filepath.Join(dir, name), name)
		if err != nil {
			return nil, err
		}
		subdirs = append(subdirs, s)
	}
	for _, s := range subdirs {
		if err := writeSubdir(dir, s, form); err != nil {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
	}
	return subdirs, nil
}

// archivesIn lists the package archives of a subdir directory, sorted.
func archivesIn(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if e.Type().IsRegular() && repodata.IsArchiveName(e.Name()) {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// readSubdir reads the records of every archive of a subdir, a few at a
// time; the errors of all damaged archives are reported, in file order.
func readSubdir(ctx context.Context, dir, subdir string) (indexedSubdir, error) {
	files, err := archivesIn(dir)
	if err != nil {
		return indexedSubdir{}, err
	}
	records := make([]shards.Raw, len(files))
	errs := make([]error, len(files))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, fn := range files {
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				errs[i] = err
				return nil
			}
			records[i], errs[i] = archiveRecord(filepath.Join(dir, fn), subdir)
			return nil
		})
	}
	g.Wait()
	if err := errors.Join(errs...); err != nil {
		return indexedSubdir{}, fmt.Errorf("%w\nnothing was written: remove or replace the archives named", err)
	}
	s := indexedSubdir{name: subdir, packages: len(files), records: map[string]map[string]shards.Raw{}}
	for i, fn := range files {
		name := records[i]["name"].(string)
		if s.records[name] == nil {
			s.records[name] = map[string]shards.Raw{}
		}
		s.records[name][fn] = records[i]
	}
	s.names = len(s.records)
	return s, nil
}

// archiveRecord is an archive's repodata record: its info/index.json
// plus size, md5 and sha256.
func archiveRecord(file, subdir string) (shards.Raw, error) {
	fn := filepath.Base(file)
	data, err := pkg.IndexJSON(file)
	if err != nil {
		return nil, err
	}
	rec := shards.Raw{}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&rec); err != nil {
		return nil, fmt.Errorf("%s: info/index.json: %w", fn, err)
	}
	for _, key := range []string{"name", "version", "build"} {
		if s, _ := rec[key].(string); s == "" {
			return nil, fmt.Errorf("%s: info/index.json has no %s", fn, key)
		}
	}
	stem := fmt.Sprintf("%s-%s-%s", rec["name"], rec["version"], rec["build"])
	if strings.TrimSuffix(strings.TrimSuffix(fn, ".conda"), ".tar.bz2") != stem {
		return nil, fmt.Errorf("%s: info/index.json describes %s: rename the file or rebuild the package", fn, stem)
	}
	if s, ok := rec["subdir"].(string); ok && s != subdir {
		return nil, fmt.Errorf("%s: info/index.json says subdir %s, but the file is in %s: move it there", fn, s, subdir)
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sh, m := sha256.New(), md5.New()
	size, err := io.Copy(io.MultiWriter(sh, m), f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn, err)
	}
	rec["size"] = json.Number(fmt.Sprint(size))
	rec["sha256"] = hex.EncodeToString(sh.Sum(nil))
	rec["md5"] = hex.EncodeToString(m.Sum(nil))
	return rec, nil
}

// writeSubdir writes one subdir's records, names in order.
func writeSubdir(dir string, s indexedSubdir, form shards.Form) error {
	w, err := shards.NewSubdirWriter(dir, s.name, form)
	if err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(s.records)) {
		if err := w.Add(name, s.records[name]); err != nil {
			w.Abort()
			return err
		}
	}
	return w.Close()
}
