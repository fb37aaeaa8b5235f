package shards

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/envkit/envkit/internal/conda/channel"
	"github.com/envkit/envkit/internal/conda/repodata"
)

// writeChannel writes a generated subdir of names with n records each.
func writeChannel(t *testing.T, dir string, names []string, form Form) {
	t.Helper()
	w, err := NewSubdirWriter(dir, "linux-64", form)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(11, 12))
	for i, name := range names {
		if err := w.Add(name, genRecords(rng, name, 1+i%7)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// tree reads every file under dir.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[rel] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestSubdirWriter(t *testing.T) {
	var names []string
	for i := range 40 {
		names = append(names, fmt.Sprintf("pkg-%02d", i))
	}
	dir := t.TempDir()
	writeChannel(t, dir, names, Sharded|Monolithic)
	u := "file://" + dir
	ch := channel.Channel{Name: "written", URL: u, Location: u}

	// The shards hold the monolithic file's records, name by name.
	data, err := os.ReadFile(filepath.Join(dir, "linux-64", "repodata.json"))
	if err != nil {
		t.Fatal(err)
	}
	rd, err := repodata.Parse(u, "linux-64", data)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]repodata.Record{}
	for _, r := range rd.Records {
		want[r.Name] = append(want[r.Name], r)
	}
	f := &Fetcher{}
	sd, err := f.Open(context.Background(), ch, "linux-64")
	if err != nil || sd == nil {
		t.Fatalf("Open: %v", err)
	}
	got, err := f.Records(context.Background(), sd, names)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(names) || !reflect.DeepEqual(got, want) {
		t.Fatalf("shards and repodata.json differ: %d and %d names", len(got), len(want))
	}

	// Byte for byte the same when written again, with no leftovers.
	first := tree(t, dir)
	writeChannel(t, dir, names, Sharded|Monolithic)
	if again := tree(t, dir); !reflect.DeepEqual(first, again) {
		t.Fatal("a second write gave different files")
	}
	if _, ok := first["linux-64/repodata.json.zst"]; !ok || len(first) != len(names)+3 {
		t.Fatalf("%d files written", len(first))
	}

	// Monolithic only: no index, no shards.
	mono := t.TempDir()
	writeChannel(t, mono, names, Monolithic)
	if got := tree(t, mono); len(got) != 2 {
		t.Fatalf("monolithic only wrote %d files", len(got))
	}

	// Shards only: no monolithic file; an aborted write leaves nothing.
	only := t.TempDir()
	writeChannel(t, only, names, Sharded)
	if _, err := os.Stat(filepath.Join(only, "linux-64", "repodata.json")); !os.IsNotExist(err) {
		t.Fatalf("shards only wrote repodata.json: %v", err)
	}
	w, err := NewSubdirWriter(only, "noarch", Sharded|Monolithic)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Add("b", genRecords(rand.New(rand.NewPCG(1, 1)), "b", 2)); err != nil {
		t.Fatal(err)
	}
	if err := w.Add("a", nil); err == nil {
		t.Fatal("names out of order accepted")
	}
	w.Abort()
	if entries, _ := os.ReadDir(filepath.Join(only, "noarch")); len(entries) != 0 {
		t.Fatalf("an aborted write left %v", entries)
	}
}
