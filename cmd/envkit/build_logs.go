package main

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/moby/buildkit/client"
	digest "github.com/opencontainers/go-digest"
)

// failedStepLines is how many of a failed step's last output lines are
// shown.
const failedStepLines = 20

// stepLogs keeps the last output lines of every step of a build, so that
// a quiet build (--progress quiet), which shows no step output,
// can still say why a step failed: BuildKit's error names the step and its
// exit code, and what the step printed is the reason.
type stepLogs struct {
	names  map[digest.Digest]string
	failed []digest.Digest
	lines  map[digest.Digest][]string
	part   map[digest.Digest][]byte // an unfinished last line
}

func newStepLogs() *stepLogs {
	return &stepLogs{names: map[digest.Digest]string{}, lines: map[digest.Digest][]string{}, part: map[digest.Digest][]byte{}}
}

// tee records what passes from in to the returned channel, which is closed
// when in is.
func (l *stepLogs) tee(in <-chan *client.SolveStatus) chan *client.SolveStatus {
	out := make(chan *client.SolveStatus)
	go func() {
		defer close(out)
		for s := range in {
			l.record(s)
			out <- s
		}
	}()
	return out
}

func (l *stepLogs) record(s *client.SolveStatus) {
	for _, v := range s.Vertexes {
		l.names[v.Digest] = v.Name
		if v.Error != "" && !slices.Contains(l.failed, v.Digest) {
			l.failed = append(l.failed, v.Digest)
		}
	}
	for _, lg := range s.Logs {
		data := append(l.part[lg.Vertex], lg.Data...)
		lines := bytes.Split(data, []byte("\n"))
		l.part[lg.Vertex] = slices.Clone(lines[len(lines)-1])
		kept := l.lines[lg.Vertex]
		for _, line := range lines[:len(lines)-1] {
			kept = append(kept, string(line))
		}
		if len(kept) > failedStepLines {
			kept = slices.Clone(kept[len(kept)-failedStepLines:])
		}
		l.lines[lg.Vertex] = kept
	}
}

// print writes the last output lines of each failed step that printed any,
// as buildx frames them.
func (l *stepLogs) print(w io.Writer) {
	for _, d := range l.failed {
		lines := l.lines[d]
		if p := l.part[d]; len(p) > 0 {
			lines = append(lines, string(p))
		}
		if len(lines) > failedStepLines {
			lines = lines[len(lines)-failedStepLines:]
		}
		if len(lines) == 0 {
			continue
		}
		fmt.Fprintf(w, "------\n > %s:\n%s\n------\n", l.names[d], strings.Join(lines, "\n"))
	}
}
