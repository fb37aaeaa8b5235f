package spec

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/distribution/reference"
	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/envkit/envkit/internal/conda/matchspec"
)

// validate checks what every format shares, after reading.
func validate(def *Definition, e *errs) {
	if img := def.Base.Image; img != "" {
		if _, err := reference.ParseNormalizedNamed(img); err != nil {
			e.add(def.Base.Pos, "base image %q: %v%s", img, err, placeholderHint(img))
		}
	}
	checkDockerfile(def.Base, e)
	for _, st := range def.Steps {
		checkStep(st, e)
	}
	if def.Python.UserManaged && def.Conda != nil {
		e.add(def.Conda.Pos, "a conda environment cannot be combined with python.user_managed: true (the image provides python); remove one")
	}
	if c := def.Conda; c != nil {
		seen := map[string]Pos{}
		for _, ch := range c.Channels {
			switch prev, dup := seen[ch.Name]; {
			case strings.TrimSpace(ch.Name) == "":
				e.add(ch.Pos, "empty channel")
			case dup:
				e.add(ch.Pos, "duplicate channel %q (also at %s)", ch.Name, prev)
			default:
				seen[ch.Name] = ch.Pos
			}
		}
		checkReqs(c.Dependencies, "conda dependency", func(q Requirement) error { return CheckCondaSpec(q.Spec) }, e)
		checkReqs(c.Pip, "pip requirement", CheckPipLine, e)
		checkEnv(c.Variables, "conda variable", e)
	}
	checkReqs(def.Pip, "pip requirement", CheckPipLine, e)
	checkEnv(def.Env, "environment variable", e)
	if p := def.Prefix; p != "" && (!path.IsAbs(p) || path.Clean(p) == "/") {
		e.add(def.Source.pos(), "prefix %q must be an absolute path below /", p)
	}
}

func (s Source) pos() Pos { return Pos{File: s.Path} }

// checkDockerfile checks a base Dockerfile as BuildKit reads it: its
// syntax, and the images its FROM lines pull (not those naming a build
// argument, set at build time, nor an earlier stage).
func checkDockerfile(b Base, e *errs) {
	if b.Dockerfile == "" {
		return
	}
	ast, err := parser.Parse(strings.NewReader(b.Dockerfile))
	if err != nil {
		e.add(dockerfilePos(b, nil), "Dockerfile: %v", err)
		return
	}
	stages := map[string]bool{}
	for _, n := range ast.AST.Children {
		if !strings.EqualFold(n.Value, "from") || n.Next == nil {
			continue
		}
		img := n.Next.Value
		if !stages[strings.ToLower(img)] && !strings.Contains(img, "$") {
			if _, err := reference.ParseNormalizedNamed(img); err != nil {
				e.add(dockerfilePos(b, n), "FROM image %q: %v%s", img, err, placeholderHint(img))
			}
		}
		if as := n.Next.Next; as != nil && strings.EqualFold(as.Value, "as") && as.Next != nil {
			stages[strings.ToLower(as.Next.Value)] = true
		}
	}
}

// placeholderHint explains a value that holds a {{…}} template
// placeholder, which tools such as azureml-assets fill in when they
// release a file ({{latest-image-tag}}, {{image.context.path}}): envkit
// reads a file as it is written.
func placeholderHint(s string) string {
	if i := strings.Index(s, "{{"); i >= 0 && strings.Contains(s[i:], "}}") {
		return "; {{…}} is a template placeholder, filled in by the tool that releases the file: write the value itself"
	}
	return ""
}

// checkStep requires one Dockerfile instruction that builds on the base
// (no FROM: that would replace it).
func checkStep(st Step, e *errs) {
	if strings.TrimSpace(st.Instruction) == "" {
		e.add(st.Pos, "empty step")
		return
	}
	ast, err := parser.Parse(strings.NewReader(st.Instruction))
	if err != nil {
		e.add(st.Pos, "step: %v", err)
		return
	}
	switch {
	case len(ast.AST.Children) != 1:
		e.add(st.Pos, "a step is one Dockerfile instruction, found %d", len(ast.AST.Children))
	case strings.EqualFold(ast.AST.Children[0].Value, "from"):
		e.add(st.Pos, "a step cannot be FROM: set the base image with base")
	}
}

func checkReqs(reqs []Requirement, what string, check func(Requirement) error, e *errs) {
	seen := map[string]Pos{}
	for _, q := range reqs {
		if strings.TrimSpace(q.Spec) == "" {
			e.add(q.Pos, "empty %s", what)
			continue
		}
		if err := check(q); err != nil {
			e.add(q.Pos, "%s %q: %v%s", what, q.Spec, err, placeholderHint(q.Spec))
			continue
		}
		key := NormalizeSpec(PipKey(q))
		if prev, dup := seen[key]; dup {
			e.add(q.Pos, "duplicate %s %q (also at %s)", what, q.Spec, prev)
			continue
		}
		seen[key] = q.Pos
	}
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)

func checkEnv(vars []EnvVar, what string, e *errs) {
	for _, v := range vars {
		if !envName.MatchString(v.Name) {
			e.add(v.Pos, "%s name %q: use letters, digits, _, . and - (starting with a letter or _)", what, v.Name)
		}
	}
}

// NormalizeSpec is a dependency line with spacing removed and the package
// name lower-cased, for comparing and hashing: "NumPy >= 1.21" and
// "numpy>=1.21" are the same requirement.
func NormalizeSpec(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if strings.HasPrefix(s, "-") || strings.Contains(s, "://") {
		return s // option lines and URLs are case-sensitive
	}
	// Lower-case the name; keep the single space that separates a conda
	// version from its build string ("numpy 1.21 py39_0").
	end := strings.IndexAny(s, "=<>!~[ @;(")
	if end < 0 {
		end = len(s)
	}
	name := strings.ToLower(s[:end])
	rest := s[end:]
	rest = operatorSpace.ReplaceAllString(rest, "$1")
	return name + strings.TrimSpace(rest)
}

var (
	operatorSpace = regexp.MustCompile(` *([=<>!~,|]+) *`)
)

// CheckCondaSpec parses a conda MatchSpec (CEP 29) as the solver will.
func CheckCondaSpec(s string) error {
	_, err := matchspec.Parse(strings.TrimSpace(s))
	if err != nil {
		// The caller already quotes the spec.
		return errors.New(strings.TrimPrefix(err.Error(), fmt.Sprintf("invalid match spec %q: ", strings.TrimSpace(s))))
	}
	return nil
}
