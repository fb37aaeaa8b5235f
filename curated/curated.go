// Package curated holds envkit's curated environments: maintained
// definitions in envkit's own format, embedded in the binary, to start
// from (envkit curated show NAME, from: curated/NAME). docs/curated.md says
// what each holds and the rule for extending one.
package curated

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
)

//go:embed definitions/*.yml
var definitions embed.FS

// dir is where the definitions sit in the embedded file system.
const dir = "definitions"

// Prefix is how a definition names a curated environment to extend
// ("from: curated/sklearn").
const Prefix = "curated/"

// Names returns the curated environments' names, sorted.
func Names() []string {
	entries, err := fs.ReadDir(definitions, dir)
	if err != nil {
		panic(err) // the embedded directory is there by construction
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".yml"))
	}
	slices.Sort(names)
	return names
}

// Get returns the definition of the curated environment name ("sklearn" or
// "curated/sklearn"), byte for byte as shipped.
func Get(name string) ([]byte, error) {
	name = strings.TrimPrefix(name, Prefix)
	if !slices.Contains(Names(), name) {
		return nil, fmt.Errorf("no curated environment %q (there are: %s)", name, strings.Join(Names(), ", "))
	}
	return definitions.ReadFile(FileName(name))
}

// FileName is the definition's path in FS.
func FileName(name string) string {
	return path.Join(dir, name+".yml")
}

// FS is the file system holding the definitions, for readers that take one.
func FS() fs.FS { return definitions }
