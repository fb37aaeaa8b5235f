package spec

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/envkit/envkit/internal/pypi/metadata"
	"github.com/envkit/envkit/internal/pypi/tags"
)

// RequirementsPython is the python version of the conda environment a
// requirements.txt is installed into (Azure ML's from_pip_requirements
// does the same with its own default); `envkit init --python` changes it.
const RequirementsPython = "3.12"

// RequirementsChannel is the conda channel python and pip come from for a
// requirements.txt.
const RequirementsChannel = "conda-forge"

// maxIncludeDepth bounds -r and -c chains.
const maxIncludeDepth = 8

// maxIncludes bounds the -r and -c files one definition reads: files that
// include others several times would otherwise multiply at each level.
const maxIncludes = 64

// readRequirements reads a pip requirements file into a conda environment
// with python, pip and the requirements as its pip part.
func (r *reader) readRequirements(d *doc, def *Definition, data []byte, fsPath string) {
	reqs := r.requirementLines(d, data, path.Dir(fsPath), []string{fsPath}, false)
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
// and -c files found relative to dir. constraint marks the lines of a -c
// file: as in pip, a -c inside any file reads constraints and a -r inside
// any file (a constraints file too) reads requirements.
func (r *reader) requirementLines(d *doc, data []byte, dir string, chain []string, constraint bool) []Requirement {
	if !utf8.Valid(data) {
		d.e.add(Pos{File: d.file}, "not UTF-8 text")
		return nil
	}
	// pip skips a byte order mark, which Windows editors write.
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
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
		out = append(out, r.pipLine(d, Requirement{Spec: line, Pos: Pos{File: d.file, Line: start, Col: col}}, dir, chain, constraint)...)
	}
	return out
}

// pipLine reads one pip line written in a file of directory dir: a -r or
// -c line becomes the lines of its file, a local wheel gets its file's
// digest, and a requirement of a constraints file is marked as one.
// Option lines apply to the whole pip part, wherever they are written.
// chain holds the files being read, outermost first.
func (r *reader) pipLine(d *doc, q Requirement, dir string, chain []string, constraint bool) []Requirement {
	text := strings.TrimSpace(q.Spec)
	if inc, isConstraint, ok := includeTarget(text); ok {
		return r.include(d, q.Pos, inc, dir, chain, isConstraint)
	}
	if w, ok, err := ParseWheelLine(text); ok {
		if err != nil {
			d.e.add(q.Pos, "pip requirement %q: %v", text, err)
			return nil
		}
		if constraint {
			d.e.add(q.Pos, "%s: a constraints file cannot name a wheel file: list the wheel in the requirements", text)
			return nil
		}
		if q.Wheel = r.wheelDigest(d, q.Pos, w.File, dir); q.Wheel == nil {
			return nil // the error is recorded
		}
		return []Requirement{q}
	}
	q.Constraint = constraint && !strings.HasPrefix(text, "-")
	return []Requirement{q}
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

// includeTarget recognises "-r FILE", "--requirement FILE", "-c FILE" and
// "--constraint FILE" (also with "=" or no space); constraint says which.
func includeTarget(line string) (target string, constraint, ok bool) {
	for _, o := range []struct {
		short, long string
		constraint  bool
	}{{"-r", "--requirement", false}, {"-c", "--constraint", true}} {
		for _, p := range []string{o.long + "=", o.long + " ", o.long + "\t", o.short + "=", o.short + " ", o.short + "\t"} {
			if strings.HasPrefix(line, p) {
				target, constraint, ok = strings.TrimSpace(line[len(p):]), o.constraint, true
			}
		}
		if !ok && strings.HasPrefix(line, o.short) && len(line) > 2 && !strings.HasPrefix(line, o.long) {
			target, constraint, ok = strings.TrimSpace(line[2:]), o.constraint, true
		}
		if ok {
			break
		}
	}
	// A remote file is left to pip: it cannot be read at definition time.
	if strings.Contains(target, "://") {
		return "", false, false
	}
	return target, constraint, ok
}

func (r *reader) include(d *doc, pos Pos, rel, dir string, chain []string, constraint bool) []Requirement {
	opt := "-r"
	if constraint {
		opt = "-c"
	}
	defer func(old string) { r.dir = old }(r.dir)
	r.dir = dir
	if p, err := r.local(rel); err == nil && slices.Contains(chain, p) {
		d.e.add(pos, "%s %s: the file includes itself (%s)", opt, rel, strings.Join(append(chain[slices.Index(chain, p):], p), " -> "))
		return nil
	}
	r.included++
	switch {
	case len(chain) > maxIncludeDepth:
		d.e.add(pos, "%s %s: requirement files nested deeper than %d", opt, rel, maxIncludeDepth)
		return nil
	case r.included > maxIncludes:
		d.e.add(pos, "%s %s: more than %d -r and -c files read for one definition", opt, rel, maxIncludes)
		return nil
	}
	data, fsPath, ok := r.readRef(d, &yaml.Node{Line: pos.Line, Column: pos.Col}, rel, opt)
	if !ok {
		return nil
	}
	sub := &doc{file: r.display(fsPath), e: d.e}
	return r.requirementLines(sub, data, path.Dir(fsPath), append(slices.Clip(chain), fsPath), constraint)
}

// expandPip reads the lines of a pip: section: -r and -c files inlined,
// local wheels digested.
func (r *reader) expandPip(d *doc, reqs []Requirement) []Requirement {
	var out []Requirement
	for _, q := range reqs {
		out = append(out, r.pipLine(d, q, r.dir, nil, false)...)
	}
	return out
}

// wheelDigest reads the wheel file rel (relative to dir, where the line
// was written) and returns its path relative to the definition's directory
// and the sha256 of its content; nil, with the error recorded, when it
// cannot be read.
func (r *reader) wheelDigest(d *doc, pos Pos, rel, dir string) *FileDigest {
	defer func(old string) { r.dir = old }(r.dir)
	r.dir = dir
	p, err := r.local(rel)
	if err != nil {
		d.e.add(pos, "%s: %v", rel, err)
		return nil
	}
	// Read as the build reads it from its context: a link leading out of
	// it is refused.
	cfs, done, err := r.contextFS(".")
	switch {
	case err != nil:
		d.e.add(pos, "%s: cannot read the wheel: %v", rel, unwrapPathError(err))
		return nil
	case cfs == nil:
		d.e.add(pos, "%s: cannot read the wheel: no build context", rel)
		return nil
	}
	defer done()
	f, err := cfs.Open(p)
	switch {
	case escapes(err):
		d.e.add(pos, "%s %s", rel, escapeMsg)
		return nil
	case err != nil:
		d.e.add(pos, "%s: cannot read the wheel: %v (paths are relative to the file that names them)", rel, unwrapPathError(err))
		return nil
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		d.e.add(pos, "%s: cannot read the wheel: %v", rel, unwrapPathError(err))
		return nil
	}
	if err := checkWheelMetadata(f, path.Base(p)); err != nil {
		d.e.add(pos, "%s: %v", rel, err)
		return nil
	}
	// The lock and the build find the wheel beside the definition.
	defRel := p
	if r.defDir != "." {
		var ok bool
		if defRel, ok = strings.CutPrefix(p, r.defDir+"/"); !ok {
			d.e.add(pos, "%s: the wheel must be inside the definition's directory", rel)
			return nil
		}
	}
	r.files = append(r.files, defRel)
	return &FileDigest{Path: defRel, Digest: "sha256:" + hex.EncodeToString(h.Sum(nil))}
}

// checkWheelMetadata reads the METADATA of the wheel file f, named name,
// as the lock reads it (bounded, whatever the zip holds): a wheel that is
// no zip or whose METADATA disagrees with its file name fails validate,
// not the lock. A file that cannot be read at an offset (a large file
// read through the BuildKit gateway, whose lock has checked it) is not
// checked; a file name that is no wheel name is validate's to report.
func checkWheelMetadata(f fs.File, name string) error {
	ra, ok := f.(io.ReaderAt)
	if !ok {
		return nil
	}
	w, err := tags.ParseWheelName(name)
	if err != nil {
		return nil
	}
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("cannot read the wheel: %v", unwrapPathError(err))
	}
	m, err := metadata.FromWheelFile(ra, st.Size())
	if err != nil {
		return fmt.Errorf("%v (a wheel is a zip archive with a .dist-info/METADATA: build it again with pip wheel, or download it again)", err)
	}
	if err := m.Matches(w); err != nil {
		return fmt.Errorf("%v (pip refuses such a wheel: rename the file after its METADATA, or build it again)", err)
	}
	return nil
}
