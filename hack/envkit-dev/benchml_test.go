package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
	digest "github.com/opencontainers/go-digest"
)

// TestChainBytes: a puller holding prev unpacks every layer of next from
// the first one whose chain differs, even layers it holds by digest.
func TestChainBytes(t *testing.T) {
	layers := func(ds ...string) *mlBuild {
		b := &mlBuild{}
		for i, d := range ds {
			b.layers = append(b.layers, mlLayer{Digest: d, Size: int64(10 * (i + 1))})
		}
		return b
	}
	prev := layers("base", "p1", "p2", "p3")
	for _, c := range []struct {
		next *mlBuild
		want int64
	}{
		{layers("base", "p1", "p2", "p3"), 0},
		{layers("base", "p1", "p2", "x"), 40},
		{layers("base", "x", "p2", "p3"), 20 + 30 + 40},
		{layers("base", "p1", "p2", "p3", "p4"), 50},
	} {
		if got := chainBytes(prev, c.next); got != c.want {
			t.Errorf("%v: %d bytes, want %d", c.next.layers, got, c.want)
		}
	}
	if n, k := layerBytes(layers("base", "x").layers, digests(prev), false); n != 20 || k != 1 {
		t.Errorf("new layers: %d bytes in %d, want 20 in 1", n, k)
	}
}

// TestPhases: each kind's time is the union of its steps' intervals
// (parallel steps count once), cached steps count nothing, and the
// exporter's statuses are their own kinds.
func TestPhases(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s int) *time.Time { x := t0.Add(time.Duration(s) * time.Second); return &x }
	var lines []string
	add := func(ss client.SolveStatus) {
		b, err := json.Marshal(ss)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, string(b))
	}
	vertex := func(id, name string, start, end int, cached bool) *client.Vertex {
		return &client.Vertex{Digest: digest.FromString(id), Name: name, Started: at(start), Completed: at(end), Cached: cached}
	}
	add(client.SolveStatus{Vertexes: []*client.Vertex{
		vertex("1", "[conda 1/3] link a 1.0", 0, 10, false),
		vertex("2", "[conda 2/3] link b 1.0", 5, 12, false), // overlaps: 0-12
		vertex("3", "[conda group 1/1] link c 1.0, d 1.0", 20, 23, false),
		vertex("4", "[conda 3/3] link e 1.0", 30, 90, true),
		vertex("5", "[conda] finalize environment", 23, 30, false),
	}})
	add(client.SolveStatus{Statuses: []*client.VertexStatus{
		{ID: "exporting layers", Vertex: digest.FromString("x"), Started: at(30), Timestamp: *at(30)},
	}})
	add(client.SolveStatus{Statuses: []*client.VertexStatus{
		{ID: "exporting layers", Vertex: digest.FromString("x"), Started: at(31), Completed: at(40), Timestamp: *at(40)},
		{ID: "pushing layers", Vertex: digest.FromString("x"), Started: at(40), Completed: at(44), Timestamp: *at(44)},
	}})
	got, err := phases(strings.NewReader(strings.Join(lines, "\n") + "\nnot json\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]time.Duration{"link steps": 15 * time.Second, "finalize": 7 * time.Second,
		"export: compress layers": 10 * time.Second, "export: push": 4 * time.Second}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s, want %s (all: %v)", k, got[k], v, got)
		}
	}
}
