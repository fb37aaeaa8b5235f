package frontend

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/frontend/subrequests"
	"github.com/moby/buildkit/frontend/subrequests/lint"
	"github.com/moby/buildkit/frontend/subrequests/outline"

	"github.com/envkit/envkit/internal/buildplan"
	envlint "github.com/envkit/envkit/internal/lint"
	"github.com/envkit/envkit/internal/spec"
)

// lint answers `--call lint`: the definition's problems, each at its
// position in the file, so that buildx prints them with the source line.
func (b *build) lint(ctx context.Context) (*lint.LintResults, error) {
	res := &lint.LintResults{}
	src := res.AddSource(b.source)
	def, err := b.parse()
	var list spec.ErrorList
	switch {
	case err == nil:
		for _, f := range envlint.Check(def) {
			res.AddWarning(f.Rule, envlint.Rules[f.Rule], "", f.Message, b.sourceOf(src, f.Pos), ranges(f.Pos))
		}
	case errors.As(err, &list):
		for _, e := range list {
			res.AddWarning("InvalidDefinition", "The environment definition is invalid", "", e.Error(), b.sourceOf(src, e.Pos), ranges(e.Pos))
		}
		res.Error = &lint.BuildError{Message: list[0].Error()}
	default:
		res.Error = &lint.BuildError{Message: err.Error()}
	}
	return res, nil
}

// sourceOf is the source index for a position in the definition file, -1
// for positions in other files (their name is in the message).
func (b *build) sourceOf(src int, pos spec.Pos) int {
	if pos.Line > 0 && (pos.File == "" || pos.File == path.Base(b.filename) || pos.File == b.filename) {
		return src
	}
	return -1
}

func ranges(pos spec.Pos) []parser.Range {
	if pos.Line == 0 {
		return nil
	}
	p := parser.Position{Line: pos.Line, Character: max(pos.Col-1, 0)}
	return []parser.Range{{Start: p, End: p}}
}

// outline answers `--call outline`: what the build takes as arguments.
func (b *build) outline(ctx context.Context) (*outline.Outline, error) {
	def, err := b.parse()
	if err != nil {
		return nil, err
	}
	return &outline.Outline{
		Name:        def.Name,
		Description: def.Description,
		Args:        outlineArgs(def, b.bc.BuildArgs),
		Sources:     [][]byte{b.data},
	}, nil
}

// outlineArgs are buildplan.Args with their values in args; the base
// image shows the one the build would use.
func outlineArgs(def *spec.Definition, args map[string]string) []outline.Arg {
	var out []outline.Arg
	for _, a := range buildplan.Args {
		v := a.ValueIn(args)
		if a.Name == buildplan.ArgBaseImage {
			v = buildplan.BaseImage(def, v)
		}
		out = append(out, outline.Arg{Name: a.Name, Description: a.Doc, Value: v})
	}
	return out
}

// describe answers frontend.subrequests.describe. dockerui's own answer
// leaves out lint even when a handler exists, and buildx reads this list
// to tell which --call methods the frontend has.
func describe() (*gwclient.Result, error) {
	all := []subrequests.Request{
		outline.SubrequestsOutlineDefinition,
		lint.SubrequestLintDefinition,
		subrequests.SubrequestsDescribeDefinition,
	}
	dt, err := json.MarshalIndent(all, "", "  ")
	if err != nil {
		return nil, err
	}
	var txt bytes.Buffer
	if err := subrequests.PrintDescribe(dt, &txt); err != nil {
		return nil, err
	}
	res := gwclient.NewResult()
	res.Metadata = map[string][]byte{
		"result.json": dt,
		"result.txt":  txt.Bytes(),
		"version":     []byte(subrequests.SubrequestsDescribeDefinition.Version),
	}
	return res, nil
}
