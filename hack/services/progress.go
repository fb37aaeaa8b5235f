package services

import (
	"bufio"
	"encoding/json"
	"io"
	"strings"

	"github.com/moby/buildkit/client"
)

// Vertex is one vertex of a build's progress: its last name, and whether
// it was cached or completed at any point.
type Vertex struct {
	Name              string
	Cached, Completed bool
}

// Ran says the vertex did its work in this build (completed, not cached).
func (v Vertex) Ran() bool { return v.Completed && !v.Cached }

// EachStatus calls fn with each SolveStatus of BuildKit's JSON progress
// (buildctl --progress rawjson, envkit build --progress json: one a line),
// in order; lines that are not one are skipped.
func EachStatus(progress io.Reader, fn func(*client.SolveStatus)) error {
	sc := bufio.NewScanner(progress)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		var ss client.SolveStatus
		if json.Unmarshal(sc.Bytes(), &ss) == nil {
			fn(&ss)
		}
	}
	return sc.Err()
}

// Vertices reads a build's JSON progress into its vertices, in order of
// first appearance.
func Vertices(progress io.Reader) ([]Vertex, error) {
	index := map[string]int{}
	var out []Vertex
	err := EachStatus(progress, func(ss *client.SolveStatus) {
		for _, v := range ss.Vertexes {
			i, ok := index[v.Digest.String()]
			if !ok {
				i = len(out)
				index[v.Digest.String()] = i
				out = append(out, Vertex{})
			}
			out[i].Name = v.Name
			out[i].Cached = out[i].Cached || v.Cached
			out[i].Completed = out[i].Completed || v.Completed != nil
		}
	})
	return out, err
}

// ExecSteps are the exec steps envkit and custom steps make (link,
// finalize, pip install, RUN) in a build's JSON progress: the names of
// those that ran, and how many were cached.
func ExecSteps(progress io.Reader) (ran []string, cached int, err error) {
	vertices, err := Vertices(progress)
	for _, v := range vertices {
		if !isExecStep(v.Name) {
			continue
		}
		if v.Cached {
			cached++
		} else if v.Completed {
			ran = append(ran, v.Name)
		}
	}
	return ran, cached, err
}

func isExecStep(name string) bool {
	for _, kind := range []string{"] link ", "finalize environment", "] install ", "RUN "} {
		if strings.Contains(name, kind) {
			return true
		}
	}
	return false
}

// Warnings are the warnings in a build's JSON progress (BuildKit's, such
// as a result that does not match the requested platforms), in order.
func Warnings(progress io.Reader) ([]string, error) {
	var out []string
	err := EachStatus(progress, func(ss *client.SolveStatus) {
		for _, w := range ss.Warnings {
			out = append(out, string(w.Short))
		}
	})
	return out, err
}
