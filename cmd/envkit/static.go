package main

import (
	"debug/elf"
	"fmt"
)

// checkStatic refuses an executable that needs a dynamic loader: envkit
// build mounts its own executable into link steps that run on an empty
// root, where a dynamically linked binary fails with a bare "no such file
// or directory" (its interpreter is missing). A `go install` with cgo
// enabled makes such a binary.
func checkStatic(exe string) error {
	f, err := elf.Open(exe)
	if err != nil {
		return fmt.Errorf("%s: cannot read it as an ELF executable for the link step: %w", exe, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked, but envkit build runs it in link steps on an empty root: install a static build (CGO_ENABLED=0 go install github.com/envkit/envkit/cmd/envkit@latest, or make build)", exe)
		}
	}
	return nil
}
