package frontend

import (
	"context"
	"fmt"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/envkit/envkit/internal/spec"
)

// LockFile is the lock read beside the definition, in the build context.
const LockFile = "conda-lock.yml"

// locked is the environment's lock: its content hash and packages per
// conda subdir.
type locked struct {
	hash     string
	packages map[string][]*repodata.Record // subdir -> packages
}

func (l *locked) forPlatform(p ocispecs.Platform) ([]*repodata.Record, error) {
	if l == nil || l.packages == nil {
		return nil, nil
	}
	subdir, err := condaSubdir(p)
	if err != nil {
		return nil, err
	}
	pkgs, ok := l.packages[subdir]
	if !ok {
		return nil, fmt.Errorf("%s has no packages for %s (%s): lock that platform too", LockFile, subdir, p.OS+"/"+p.Architecture)
	}
	return pkgs, nil
}

// lockedPackages reads and checks the lock of a definition with a conda
// environment.
func (b *build) lockedPackages(ctx context.Context, def *spec.Definition) (*locked, error) {
	if def.Conda == nil || def.Python.UserManaged || len(def.Conda.Dependencies) == 0 {
		return &locked{}, nil
	}
	return nil, fmt.Errorf("%s: building a conda environment needs %s, which this frontend cannot read yet", def.Conda.Pos, LockFile)
}
