package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/moby/buildkit/client"
	digest "github.com/opencontainers/go-digest"
)

func TestStepLogs(t *testing.T) {
	ok, bad, silent := digest.FromString("ok"), digest.FromString("bad"), digest.FromString("silent")
	in := make(chan *client.SolveStatus)
	logs := newStepLogs()
	out := logs.tee(in)
	go func() {
		defer close(in)
		in <- &client.SolveStatus{Vertexes: []*client.Vertex{
			{Digest: ok, Name: "[conda 1/2] link a 1.0"},
			{Digest: bad, Name: "[conda 2/2] link b 2.0"},
			{Digest: silent, Name: "[conda] finalize environment"},
		}}
		in <- &client.SolveStatus{Logs: []*client.VertexLog{
			{Vertex: ok, Data: []byte("fine\n")},
			{Vertex: bad, Data: []byte("line 0\nline 1\nenvkit: b-2.0-0.tar.bz2: sha2")},
		}}
		var many strings.Builder
		for i := 2; i < 30; i++ {
			fmt.Fprintf(&many, "line %d\n", i)
		}
		in <- &client.SolveStatus{Logs: []*client.VertexLog{{Vertex: bad, Data: []byte("56 mismatch\n" + many.String() + "last, unfinished")}}}
		in <- &client.SolveStatus{Vertexes: []*client.Vertex{
			{Digest: bad, Name: "[conda 2/2] link b 2.0", Error: "exit code: 1"},
			{Digest: silent, Name: "[conda] finalize environment", Error: "canceled"},
		}}
	}()
	n := 0
	for range out {
		n++
	}
	if n != 4 {
		t.Fatalf("tee passed %d statuses on, want 4", n)
	}
	var b strings.Builder
	logs.print(&b)
	got := b.String()
	if !strings.HasPrefix(got, "------\n > [conda 2/2] link b 2.0:\n") || !strings.HasSuffix(got, "line 29\nlast, unfinished\n------\n") {
		t.Errorf("printed:\n%s", got)
	}
	if lines := strings.Count(got, "\n"); lines != failedStepLines+3 {
		t.Errorf("printed %d lines, want the last %d of the step and 3 of frame:\n%s", lines, failedStepLines, got)
	}
	if strings.Contains(got, "fine") || strings.Contains(got, "finalize") || strings.Contains(got, "line 9\n") {
		t.Errorf("printed a step that did not fail, one that printed nothing, or too much:\n%s", got)
	}
}
