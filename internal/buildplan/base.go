package buildplan

import (
	"github.com/envkit/envkit/internal/hash"
	"github.com/envkit/envkit/internal/spec"
)

// BaseImage is the base image a build of def starts from: none for a
// Dockerfile base; the definition's own; for a definition that names none
// (a conda or requirements file), override (ENVKIT_BASE_IMAGE, the CLI's
// --base-image) when set, else spec.DefaultBaseImage.
func BaseImage(def *spec.Definition, override string) string {
	switch {
	case def.Base.Dockerfile != "":
		return ""
	case def.Base.Image != "":
		return def.Base.Image
	case override != "":
		return override
	}
	return spec.DefaultBaseImage
}

// WithBase is a copy of def naming the base a build starts from
// (BaseImage): what the definition hash and a comparison of definitions
// read. def is not changed.
func WithBase(def *spec.Definition, override string) *spec.Definition {
	d := *def
	d.SetDefaultBase(BaseImage(def, override))
	return &d
}

// DefinitionHash is the hash of def with the base a build starts from:
// the hash envkit hash prints and the image key's definition part.
func DefinitionHash(def *spec.Definition, override string) (string, error) {
	return hash.Of(WithBase(def, override))
}
