package spec

import (
	"strings"

	"github.com/envkit/envkit/internal/conda/matchspec"
	"github.com/envkit/envkit/internal/pypi/pep508"
)

// extend lays over, a definition that names a curated environment with
// from:, over base, that curated definition, by docs/curated.md's rule:
// lists of packages are unions keyed by package name where over's pin
// wins (in base's position), everything else over sets replaces base's
// value. Values keep the position they were read from, so a problem in a
// merged-in value points into the curated file.
func extend(base, over *Definition) *Definition {
	out := &Definition{
		Name:        over.Name,
		Version:     over.Version,
		Description: over.Description,
		Tags:        mergeTags(base.Tags, over.Tags),
		Base:        base.Base,
		Steps:       concat(base.Steps, over.Steps),
		Conda:       mergeConda(base.Conda, over.Conda),
		Pip:         unionBy(base.Pip, over.Pip, pipLineKey),
		Env:         mergeVars(base.Env, over.Env),
		Python:      base.Python,
		Prefix:      base.Prefix,
		Spark:       mergeSpark(base.Spark, over.Spark),
		Platforms:   base.Platforms,
		AzureML:     base.AzureML,
		Source:      over.Source,
	}
	if over.Base.Image != "" || over.Base.Dockerfile != "" {
		ctx := out.Base.Context
		out.Base = over.Base
		out.Base.Context = ctx
	}
	if over.Base.Context != "" {
		out.Base.Context = over.Base.Context
	}
	if over.Python.Pos != (Pos{}) {
		out.Python = over.Python
	}
	if over.Prefix != "" {
		out.Prefix = over.Prefix
	}
	if len(over.Platforms) > 0 {
		out.Platforms = over.Platforms
	}
	if over.AzureML.OSType != "" || over.AzureML.InferenceConfig != nil {
		out.AzureML = over.AzureML
	}
	return out
}

func concat[T any](a, b []T) []T {
	if len(a)+len(b) == 0 {
		return nil
	}
	return append(append(make([]T, 0, len(a)+len(b)), a...), b...)
}

func mergeTags(base, over map[string]string) map[string]string {
	if len(base)+len(over) == 0 {
		return nil
	}
	out := make(map[string]string, len(base)+len(over))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	return out
}

// unionBy merges two lists keyed by key: the items of over whose key is
// in base take the place of base's first item with that key (base's others
// with it are dropped), the rest of over follows in its order. Two items of
// over with one key are both kept ("numpy>=1.21", "numpy<2").
func unionBy[T any](base, over []T, key func(T) string) []T {
	if len(base)+len(over) == 0 {
		return nil
	}
	inBase := make(map[string]bool, len(base))
	for _, b := range base {
		inBase[key(b)] = true
	}
	byKey := map[string][]T{}
	var added []T
	for _, o := range over {
		k := key(o)
		if inBase[k] {
			byKey[k] = append(byKey[k], o)
		} else {
			added = append(added, o)
		}
	}
	out := make([]T, 0, len(base)+len(over))
	done := map[string]bool{}
	for _, b := range base {
		k := key(b)
		switch repl, ok := byKey[k]; {
		case !ok:
			out = append(out, b)
		case !done[k]:
			out = append(out, repl...)
			done[k] = true
		}
	}
	return append(out, added...)
}

func mergeReqs(base, over []Requirement, key func(string) string) []Requirement {
	return unionBy(base, over, func(r Requirement) string { return key(r.Spec) })
}

func mergeVars(base, over []EnvVar) []EnvVar {
	return unionBy(base, over, func(v EnvVar) string { return v.Name })
}

// condaKey is a conda dependency's package name. A spec that does not
// parse keys as itself, so it is kept and validation reports it.
func condaKey(spec string) string {
	ms, err := matchspec.Parse(strings.TrimSpace(spec))
	if err != nil {
		return "\x00" + spec
	}
	return ms.Name
}

// pipKey is a pip requirement's PEP 503 name; an option line or a
// requirement without a name (a URL) keys as its normalised text, so
// equal lines are kept once.
func pipKey(spec string) string {
	if s := strings.TrimSpace(spec); !strings.HasPrefix(s, "-") {
		if req, err := pep508.Parse(s); err == nil && req.Name != "" {
			return pep508.NormaliseName(req.Name)
		}
	}
	return "\x00" + NormalizeSpec(spec)
}

// pipLineKey keys a pip line for the merge: a constraint replaces a
// constraint on the same project (not the requirement it limits), a
// wheel file keys as its name and digest.
func pipLineKey(q Requirement) string {
	switch {
	case q.Wheel != nil:
		return "\x00" + PipKey(q)
	case q.Constraint:
		return "-c\x00" + pipKey(q.Spec)
	}
	return pipKey(q.Spec)
}

func mergeConda(base, over *CondaEnv) *CondaEnv {
	switch {
	case base == nil:
		return over
	case over == nil:
		c := *base
		return &c
	}
	out := &CondaEnv{
		Name:         base.Name,
		Channels:     unionBy(base.Channels, over.Channels, func(c Channel) string { return c.Name }),
		Dependencies: mergeReqs(base.Dependencies, over.Dependencies, condaKey),
		Pip:          unionBy(base.Pip, over.Pip, pipLineKey),
		Variables:    mergeVars(base.Variables, over.Variables),
		// The merge is no longer the content of over's conda file, if it
		// had one: it is written inline.
		Pos: base.Pos,
	}
	if over.Name != "" {
		out.Name = over.Name
	}
	return out
}

func mergeSpark(base, over *Spark) *Spark {
	switch {
	case base == nil:
		return over
	case over == nil:
		s := *base
		return &s
	}
	return &Spark{
		Repositories: unionBy(base.Repositories, over.Repositories, func(s string) string { return s }),
		Packages: unionBy(base.Packages, over.Packages, func(p MavenPackage) string {
			return p.Group + ":" + p.Artifact
		}),
		Precache: base.Precache || over.Precache,
		Pos:      base.Pos,
	}
}
