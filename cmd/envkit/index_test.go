package main

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/envkit/envkit/internal/conda/channel"
	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/envkit/envkit/internal/conda/shards"
	"github.com/envkit/envkit/internal/conformance"
)

// copyArchives copies the package archives of a conformance channel
// (not its repodata) into a new directory.
func copyArchives(t *testing.T, name string) string {
	t.Helper()
	src := conformance.Dir(t, "channels", name)
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !repodata.IsArchiveName(d.Name()) {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dst, filepath.Dir(rel)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// indexedFiles reads every file under dir.
func indexedFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[rel] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func parseSubdir(t *testing.T, u, subdir, file string) []repodata.Record {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	rd, err := repodata.Parse(u, subdir, data)
	if err != nil {
		t.Fatal(err)
	}
	return rd.Records
}

func TestIndexConformanceChannels(t *testing.T) {
	for _, name := range []string{"test-recipes", "conda_format_repo", "libgcc-stub"} {
		t.Run(name, func(t *testing.T) {
			dir := copyArchives(t, name)
			if _, stderr, code := runCmd(t, "index", dir); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			first := indexedFiles(t, dir)
			subdirs, _ := filepath.Glob(filepath.Join(dir, "*", shards.IndexFile))
			if len(subdirs) < 2 { // noarch and a platform at least
				t.Fatalf("indexed %v", subdirs)
			}
			u := "file://" + dir
			ch := channel.Channel{Name: name, URL: u, Location: u}
			f := &shards.Fetcher{}
			for _, ix := range subdirs {
				subdir := filepath.Base(filepath.Dir(ix))
				// The shards hold the monolithic file's records.
				mono := parseSubdir(t, u, subdir, filepath.Join(dir, subdir, "repodata.json"))
				sd, err := f.Open(context.Background(), ch, subdir)
				if err != nil {
					t.Fatal(err)
				}
				var names []string
				for n := range sd.Index.Shards {
					names = append(names, n)
				}
				byName, err := f.Records(context.Background(), sd, names)
				if err != nil {
					t.Fatal(err)
				}
				want := map[string][]repodata.Record{}
				for _, r := range mono {
					want[r.Name] = append(want[r.Name], r)
				}
				if !reflect.DeepEqual(byName, want) {
					t.Fatalf("%s: shards\n%+v\nrepodata.json\n%+v", subdir, byName, want)
				}
				// test-recipes' repodata.json was written by conda-index
				// from the same archives: the same records.
				if name == "test-recipes" {
					orig := parseSubdir(t, u, subdir, conformance.Dir(t, "channels", name, subdir, "repodata.json"))
					if !reflect.DeepEqual(mono, orig) {
						t.Fatalf("%s: envkit index gives\n%+v\nconda-index gave\n%+v", subdir, mono, orig)
					}
				}
			}
			// A second run writes the same bytes.
			if _, stderr, code := runCmd(t, "index", dir); code != 0 {
				t.Fatalf("second run: exit %d: %s", code, stderr)
			}
			if !reflect.DeepEqual(first, indexedFiles(t, dir)) {
				t.Fatal("a second run changed the channel's files")
			}
		})
	}
}

func TestIndexShardsOnly(t *testing.T) {
	dir := copyArchives(t, "libgcc-stub")
	if _, stderr, code := runCmd(t, "index", "--shards-only", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for rel := range indexedFiles(t, dir) {
		if strings.HasPrefix(filepath.Base(rel), "repodata.json") {
			t.Fatalf("--shards-only wrote %s", rel)
		}
	}
}

func TestIndexCorruptArchive(t *testing.T) {
	for _, damage := range []struct {
		name string
		edit func([]byte) []byte
	}{
		{"truncated", func(b []byte) []byte { return b[:len(b)/2] }},
		{"not an archive", func([]byte) []byte { return []byte("not a package") }},
	} {
		t.Run(damage.name, func(t *testing.T) {
			dir := copyArchives(t, "test-recipes")
			bad := filepath.Join(dir, "noarch", "dependent-2.0-0.conda")
			data, err := os.ReadFile(bad)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(bad, damage.edit(data), 0o644); err != nil {
				t.Fatal(err)
			}
			before := indexedFiles(t, dir)
			_, stderr, code := runCmd(t, "index", dir)
			if code != 1 || !strings.Contains(stderr, "dependent-2.0-0.conda") || !strings.Contains(stderr, "nothing was written") {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if after := indexedFiles(t, dir); !reflect.DeepEqual(before, after) {
				t.Fatalf("a failed index changed the directory: %d files before, %d after", len(before), len(after))
			}
		})
	}
}

// An archive whose name or place disagrees with its info/index.json is
// refused: a channel would publish a record under the wrong name.
func TestIndexMisplacedArchive(t *testing.T) {
	for _, c := range []struct {
		name, from, to, want string
	}{
		{"renamed", "noarch/dependent-2.0-0.conda", "noarch/dependent-3.0-0.conda", "describes dependent-2.0-0"},
		{"wrong subdir", "noarch/dependent-2.0-0.conda", "linux-64/dependent-2.0-0.conda", "says subdir noarch, but the file is in linux-64"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := copyArchives(t, "test-recipes")
			if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(c.to)), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(filepath.Join(dir, c.from), filepath.Join(dir, c.to)); err != nil {
				t.Fatal(err)
			}
			before := indexedFiles(t, dir)
			_, stderr, code := runCmd(t, "index", dir)
			if code != 1 || !strings.Contains(stderr, c.want) {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if !reflect.DeepEqual(before, indexedFiles(t, dir)) {
				t.Fatal("a failed index changed the directory")
			}
		})
	}
}
