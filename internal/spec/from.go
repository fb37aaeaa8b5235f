package spec

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/envkit/envkit/curated"
)

// readFrom reads the curated definition a native file names with
// "from: curated/NAME". Its values are shown at curated/NAME.yml, so a
// problem in a merged-in value says where it came from.
func (r *reader) readFrom(d *doc, n *yaml.Node) (*Definition, bool) {
	ref, ok := d.str(n, "from")
	if !ok {
		return nil, false
	}
	if r.noFrom {
		d.errorf(n, "from: a curated definition cannot extend another")
		return nil, false
	}
	known := curated.Names()
	name, isCurated := strings.CutPrefix(ref, curated.Prefix)
	if !isCurated || !contains(known, name) {
		refs := make([]string, len(known))
		for i, k := range known {
			refs[i] = curated.Prefix + k
		}
		// "sklearn" and "curated/sklearn.yml" are near misses too.
		hint := ""
		if best, ok := closest(strings.TrimSuffix(name, ".yml"), known); ok {
			hint = fmt.Sprintf("; did you mean %q?", curated.Prefix+best)
		}
		d.errorf(n, "from: unknown curated environment %q%s (known: %s)", ref, hint, strings.Join(refs, ", "))
		return nil, false
	}
	data, err := curated.Get(name)
	if err != nil {
		d.errorf(n, "from: %v", err)
		return nil, false
	}
	cr := &reader{dir: strings.TrimSuffix(curated.Prefix, "/"), noFrom: true}
	base, err := cr.parse(name+".yml", data)
	if err != nil {
		// A shipped definition is checked by curated's tests; report it
		// all the same rather than build something else.
		d.errorf(n, "from: %s is invalid:\n%v", ref, err)
		return nil, false
	}
	if base.Source.Format != FormatNative {
		d.errorf(n, "from: %s is not an envkit definition", ref)
		return nil, false
	}
	r.from = ref
	return base, true
}

// extendCurated returns over laid on the curated definition its from:
// names. Removing is not part of extending, so turning the curated conda
// environment off with python.user_managed is an error here, at the
// user's key rather than at the curated conda key.
func (r *reader) extendCurated(d *doc, over *Definition) *Definition {
	base := r.extends
	if over.Python.UserManaged && base.Conda != nil {
		d.e.add(over.Python.Pos, "python.user_managed: true cannot extend %s, which builds a conda environment: copy it (envkit curated show %s) and edit the copy", r.from, strings.TrimPrefix(r.from, curated.Prefix))
		return over
	}
	def := extend(base, over)
	def.Source.From = r.from
	return def
}
