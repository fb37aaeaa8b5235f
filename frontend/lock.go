package frontend

import (
	"context"
	"errors"
	"fmt"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/envkit/envkit/internal/buildplan"
	"github.com/envkit/envkit/internal/pypi/pipenv"
	"github.com/envkit/envkit/internal/spec"
)

// lockedPackages reads the lock beside the definition, checked current for
// every target platform (buildplan.ReadLock). Without a lock, the frontend
// solves the conda part; pip packages and precached Spark packages need
// the lock.
func (b *build) lockedPackages(ctx context.Context, def *spec.Definition) (*buildplan.Locked, error) {
	out, err := buildplan.ReadLock(b.fsys, def, b.opts, b.targets())
	if errors.Is(err, buildplan.ErrNoLock) {
		if err := b.needsLock(def); err != nil {
			return nil, err
		}
		return b.solveInFrontend(ctx, def, buildplan.LockInputs(def, b.opts))
	}
	return out, err
}

// needsLock refuses, at their line, the parts only a lock can pin: the
// frontend has no network to resolve PyPI or Maven repositories.
func (b *build) needsLock(def *spec.Definition) error {
	var problems spec.ErrorList
	if lines := pipenv.Lines(def); len(lines) > 0 {
		problems = append(problems, &spec.Error{Pos: lines[0].Pos, Msg: fmt.Sprintf(
			"pip packages need %s beside the definition (the frontend does not resolve PyPI): run envkit lock %s and build with the lock in the context", buildplan.LockFile, b.filename)})
	}
	if def.PrecachesSpark() {
		problems = append(problems, &spec.Error{Pos: def.Spark.Pos, Msg: fmt.Sprintf(
			"precached Spark packages need %s beside the definition (the frontend does not resolve Maven repositories): run envkit lock %s and build with the lock in the context", buildplan.LockFile, b.filename)})
	}
	if len(problems) > 0 {
		return problems
	}
	return nil
}

// targets are the platforms the build makes.
func (b *build) targets() []ocispecs.Platform {
	if len(b.bc.TargetPlatforms) > 0 {
		return b.bc.TargetPlatforms
	}
	return []ocispecs.Platform{b.platform(nil)}
}
