package spec

import (
	"path"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// RequirementsPython is the python version of the conda environment a
// requirements.txt is installed into (Azure ML's from_pip_requirements
// does the same with its own default); `envkit init --python` changes it.
const RequirementsPython = "3.12"

// RequirementsChannel is the conda channel python and pip come from for a
// requirements.txt.
const RequirementsChannel = "conda-forge"

// maxIncludeDepth bounds -r chains (and so include cycles).
const maxIncludeDepth = 8

// readRequirements reads a pip requirements file into a conda environment
// with python, pip and the requirements as its pip part.
func (r *reader) readRequirements(d *doc, def *Definition, data []byte, fsPath string) {
	reqs := r.requirementLines(d, data, path.Dir(fsPath), 0)
	def.Conda = &CondaEnv{
		Channels: []Channel{{Name: RequirementsChannel}},
		Dependencies: []Requirement{
			{Spec: "python=" + RequirementsPython},
			{Spec: "pip"},
		},
		Pip: reqs,
		Pos: Pos{File: d.file},
	}
}

// requirementLines splits a requirements file into requirement and option
// lines (comments, blank lines and continuations resolved), inlining -r
// files found relative to dir.
func (r *reader) requirementLines(d *doc, data []byte, dir string, depth int) []Requirement {
	if !utf8.Valid(data) {
		d.e.add(Pos{File: d.file}, "not UTF-8 text")
		return nil
	}
	var out []Requirement
	lines := strings.Split(string(data), "\n")
	for i := 0; i < len(lines); i++ {
		start := i + 1
		line := strings.TrimRight(lines[i], "\r")
		for strings.HasSuffix(line, "\\") && i+1 < len(lines) {
			i++
			line = strings.TrimSuffix(line, "\\") + strings.TrimRight(lines[i], "\r")
		}
		line = stripComment(line)
		if line == "" {
			continue
		}
		col := len(lines[start-1]) - len(strings.TrimLeft(lines[start-1], " \t")) + 1
		pos := Pos{File: d.file, Line: start, Col: col}
		if inc, ok := includeTarget(line); ok {
			out = append(out, r.include(d, pos, inc, dir, depth)...)
			continue
		}
		out = append(out, Requirement{Spec: line, Pos: pos})
	}
	return out
}

// stripComment removes a "#" comment (at the line start or after
// whitespace, as pip does) and surrounding space.
func stripComment(line string) string {
	t := strings.TrimSpace(line)
	if strings.HasPrefix(t, "#") {
		return ""
	}
	if i := strings.Index(t, " #"); i >= 0 {
		t = t[:i]
	}
	if i := strings.Index(t, "\t#"); i >= 0 {
		t = t[:i]
	}
	return strings.TrimSpace(t)
}

// includeTarget recognises "-r FILE" and "--requirement FILE" (also with
// "=" or no space).
func includeTarget(line string) (string, bool) {
	target, ok := "", false
	for _, p := range []string{"--requirement=", "--requirement ", "-r=", "-r "} {
		if strings.HasPrefix(line, p) {
			target, ok = strings.TrimSpace(line[len(p):]), true
			break
		}
	}
	if !ok && strings.HasPrefix(line, "-r") && len(line) > 2 && line[2] != ' ' {
		target, ok = strings.TrimSpace(line[2:]), true
	}
	// A remote file is left to pip: it cannot be read at definition time.
	if strings.Contains(target, "://") {
		return "", false
	}
	return target, ok
}

func (r *reader) include(d *doc, pos Pos, rel, dir string, depth int) []Requirement {
	if depth >= maxIncludeDepth {
		d.e.add(pos, "-r %s: requirement files nested deeper than %d (a cycle?)", rel, maxIncludeDepth)
		return nil
	}
	defer func(old string) { r.dir = old }(r.dir)
	r.dir = dir
	data, fsPath, ok := r.readRef(d, &yaml.Node{Line: pos.Line, Column: pos.Col}, rel, "-r")
	if !ok {
		return nil
	}
	sub := &doc{file: r.display(fsPath), e: d.e}
	return r.requirementLines(sub, data, path.Dir(fsPath), depth+1)
}

// expandPip inlines -r lines of a conda pip: section.
func (r *reader) expandPip(d *doc, reqs []Requirement) []Requirement {
	var out []Requirement
	for _, q := range reqs {
		if inc, ok := includeTarget(strings.TrimSpace(q.Spec)); ok {
			out = append(out, r.include(d, q.Pos, inc, r.dir, 0)...)
			continue
		}
		out = append(out, q)
	}
	return out
}
