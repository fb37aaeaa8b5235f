package services

import (
	"bufio"
	"encoding/json"
	"io"
	"strings"

	"github.com/moby/buildkit/client"
)

// ExecSteps reads BuildKit's JSON progress (buildctl --progress rawjson,
// envkit build --progress json) and returns the exec steps envkit and
// custom steps make (link, finalize, pip install, RUN) that ran, by name,
// and how many were cached.
func ExecSteps(progress io.Reader) (ran []string, cached int, err error) {
	type state struct {
		name              string
		cached, completed bool
	}
	vertices := map[string]*state{}
	sc := bufio.NewScanner(progress)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var ss client.SolveStatus
		if json.Unmarshal(sc.Bytes(), &ss) != nil {
			continue
		}
		for _, v := range ss.Vertexes {
			s := vertices[v.Digest.String()]
			if s == nil {
				s = &state{}
				vertices[v.Digest.String()] = s
			}
			s.name = v.Name
			s.cached = s.cached || v.Cached
			s.completed = s.completed || v.Completed != nil
		}
	}
	for _, s := range vertices {
		if !isExecStep(s.name) {
			continue
		}
		if s.cached {
			cached++
		} else if s.completed {
			ran = append(ran, s.name)
		}
	}
	return ran, cached, sc.Err()
}

func isExecStep(name string) bool {
	for _, kind := range []string{"] link ", "finalize environment", "] install ", "RUN "} {
		if strings.Contains(name, kind) {
			return true
		}
	}
	return false
}
