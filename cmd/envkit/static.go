package main

import (
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/envkit/envkit/frontend"
	"github.com/envkit/envkit/internal/buildplan"
	"github.com/envkit/envkit/internal/platform"
	"github.com/envkit/envkit/internal/spec"
)

// elfMachines are the ELF machines of the Go architectures envkit builds
// for (internal/platform).
var elfMachines = map[string]elf.Machine{
	"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64, "arm": elf.EM_ARM, "386": elf.EM_386,
	"ppc64le": elf.EM_PPC64, "s390x": elf.EM_S390, "riscv64": elf.EM_RISCV,
}

// checkStatic refuses an executable that needs a dynamic loader: envkit
// build mounts its own executable into link steps that run on an empty
// root, where a dynamically linked binary fails with a bare "no such file
// or directory" (its interpreter is missing). A `go install` with cgo
// enabled makes such a binary.
func checkStatic(exe string) error {
	_, err := checkLinkBinary(exe)
	return err
}

// checkLinkBinary is checkStatic returning the executable's machine.
func checkLinkBinary(exe string) (elf.Machine, error) {
	f, err := elf.Open(exe)
	if err != nil {
		return 0, fmt.Errorf("%s: cannot read it as an ELF executable for the link step: %w", exe, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return 0, fmt.Errorf("%s is dynamically linked, but envkit build runs it in link steps on an empty root: install a static build (CGO_ENABLED=0 go install github.com/envkit/envkit/cmd/envkit@latest, or make build)", exe)
		}
	}
	return f.Machine, nil
}

// crossName is the file name, beside envkit's own executable, of its
// static build for GOOS/GOARCH os/arch: the name make build,
// hack/frontend-image.sh and the Dockerfile give it.
func crossName(os, arch string) string { return "envkit-" + os + "-" + arch }

// builderPlatform is the platform link steps run on: the first worker's,
// as the frontend takes it (dockerui's BuildPlatforms).
func builderPlatform(ctx context.Context, c *client.Client) (ocispecs.Platform, error) {
	workers, err := c.ListWorkers(ctx)
	if err != nil {
		return ocispecs.Platform{}, fmt.Errorf("listing BuildKit's workers for their platform: %w", err)
	}
	if len(workers) == 0 || len(workers[0].Platforms) == 0 {
		return ocispecs.Platform{}, errors.New("BuildKit has no worker with a platform to build on")
	}
	return platforms.Normalize(workers[0].Platforms[0]), nil
}

// linkPlatforms are the platforms whose envkit binary a build of def runs:
// the builder's (link steps) and every target's (finalize and pip steps),
// targets as buildplan.Targets reads them, each once by GOOS/GOARCH.
func linkPlatforms(def *spec.Definition, requested []string, builder ocispecs.Platform) ([]ocispecs.Platform, error) {
	var req []ocispecs.Platform
	for _, r := range requested {
		p, err := platform.Parse(r)
		if err != nil {
			return nil, usagef("--platform %s: %v", r, err)
		}
		req = append(req, p.OCI())
	}
	targets := req
	if def != nil {
		var err error
		if targets, err = buildplan.Targets(def, req, builder); err != nil {
			return nil, err
		}
	}
	out := []ocispecs.Platform{builder}
	for _, t := range targets {
		if !slices.ContainsFunc(out, func(p ocispecs.Platform) bool { return p.OS == t.OS && p.Architecture == t.Architecture }) {
			out = append(out, t)
		}
	}
	return out, nil
}

// linkBinaryDirs are temporary directories each holding one static envkit
// executable as "envkit", by the local input the frontend reads it from
// (frontend.LocalLinkBinaryFor): this executable for its own platform,
// and for another the cross-compiled envkit-<os>-<arch> beside it, so a
// foreign platform's steps run its own binary, not this one under an
// emulator's wrong guess. remove deletes them all.
func linkBinaryDirs(ps []ocispecs.Platform) (dirs map[string]string, remove func(), err error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	if runtime.GOOS != "linux" {
		return nil, nil, fmt.Errorf("envkit build runs the link step with its own executable, which must be a linux binary (this one is %s/%s)", runtime.GOOS, runtime.GOARCH)
	}
	dirs = map[string]string{}
	remove = func() {
		for _, d := range dirs {
			os.RemoveAll(d)
		}
	}
	for _, p := range ps {
		name := frontend.LocalLinkBinaryFor(p)
		if _, ok := dirs[name]; ok {
			continue
		}
		bin := exe
		if p.OS != runtime.GOOS || p.Architecture != runtime.GOARCH {
			bin = filepath.Join(filepath.Dir(exe), crossName(p.OS, p.Architecture))
			if _, err := os.Stat(bin); err != nil {
				remove()
				return nil, nil, fmt.Errorf("building for %s/%s needs envkit built for it beside this one, as %s: CGO_ENABLED=0 GOOS=%s GOARCH=%s go build -o %s ./cmd/envkit (make build makes the arm64 or amd64 one)",
					p.OS, p.Architecture, bin, p.OS, p.Architecture, bin)
			}
		}
		machine, err := checkLinkBinary(bin)
		if err == nil && machine != elfMachines[p.Architecture] {
			err = fmt.Errorf("%s is a %s executable, not one for %s/%s", bin, machine, p.OS, p.Architecture)
		}
		if err != nil {
			remove()
			return nil, nil, err
		}
		dir, err := os.MkdirTemp("", "envkit-bin-")
		if err != nil {
			remove()
			return nil, nil, err
		}
		dirs[name] = dir
		dst := filepath.Join(dir, "envkit")
		if err := os.Link(bin, dst); err != nil {
			if err := copyExecutable(bin, dst); err != nil {
				remove()
				return nil, nil, err
			}
		}
	}
	return dirs, remove, nil
}

func copyExecutable(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o755)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	return errors.Join(err, out.Close())
}
