package main

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/envkit/envkit/internal/conda/pkg"
	"github.com/envkit/envkit/internal/wheel"
)

// linkWheels is `envkit link --wheel`: the BuildKit step that installs pip
// wheels into DIR/PREFIX. It runs on the finished conda environment (its
// python compiles the .pyc) but writes only under dest, the step's own
// output, so a wheel's layer holds that wheel alone.
func linkWheels(specs []string, prefix, dest, python string, compile bool, epoch time.Time) error {
	if dest == "" || python == "" {
		return usagef("link --wheel: expected --dest DIR and --python X.Y")
	}
	if !isMajorMinor(python) {
		return usagef("link: --python %q is not X.Y", python)
	}
	type wheelArg struct{ path, sha256 string }
	var args []wheelArg
	for _, s := range specs {
		p, sum, ok := strings.Cut(s, "#sha256=")
		if !ok || p == "" || len(sum) != 64 {
			return usagef("link --wheel %q: want PATH#sha256=HEX (64 hex digits)", s)
		}
		args = append(args, wheelArg{p, sum})
	}
	interpreter := path.Join(prefix, "bin", "python"+python)
	staged := filepath.Join(dest, prefix)
	var installed []*wheel.Installed
	// Every archive is checked (sha256, RECORD) before it is written, and
	// a failure names the wheel; BuildKit drops the output of a failed
	// step, so nothing half-written reaches a layer.
	for _, a := range args {
		inst, err := wheel.Install(a.path, staged, python, wheel.Options{SHA256: a.sha256, ModTime: epoch, Python: interpreter})
		if err != nil {
			return fmt.Errorf("pip wheel %s: %w", filepath.Base(a.path), err)
		}
		installed = append(installed, inst)
	}
	if compile {
		site := path.Join("lib", "python"+python, "site-packages")
		if err := wheel.Compile(interpreter, filepath.Join(staged, site), path.Join(prefix, site)); err != nil {
			return err
		}
		for _, inst := range installed {
			if _, err := wheel.RecordCompiled(staged, inst); err != nil {
				return err
			}
		}
	}
	return pkg.SetTreeMtime(dest, epoch)
}
