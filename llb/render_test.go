package llb

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
)

// vertex is one marshalled op with its digest and progress name.
type vertex struct {
	Digest digest.Digest
	Op     *pb.Op
	Name   string
}

// vertices decodes a marshalled definition, in its own (deterministic)
// order.
func vertices(def *llb.Definition) ([]vertex, error) {
	out := make([]vertex, 0, len(def.Def))
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			return nil, err
		}
		d := digest.FromBytes(dt)
		out = append(out, vertex{Digest: d, Op: &op, Name: def.Metadata[d].Description["llb.customname"]})
	}
	return out, nil
}

// render prints a definition as readable text for golden files: one block
// per vertex, inputs referred to by number, and the digest prefix so that
// a review of the diff shows which cache keys moved.
func render(def *llb.Definition) (string, error) {
	vs, err := vertices(def)
	if err != nil {
		return "", err
	}
	num := map[digest.Digest]int{}
	for i, v := range vs {
		num[v.Digest] = i + 1
	}
	var b strings.Builder
	for i, v := range vs {
		op := v.Op
		inputs := make([]string, len(op.Inputs))
		for j, in := range op.Inputs {
			inputs[j] = fmt.Sprintf("#%d", num[digest.Digest(in.Digest)])
			if in.Index != 0 {
				inputs[j] += fmt.Sprintf(".%d", in.Index)
			}
		}
		fmt.Fprintf(&b, "#%d %s", i+1, v.Digest.Encoded()[:12])
		if op.Platform != nil {
			fmt.Fprintf(&b, " %s/%s", op.Platform.OS, op.Platform.Architecture)
			if op.Platform.Variant != "" {
				fmt.Fprintf(&b, "/%s", op.Platform.Variant)
			}
		}
		if v.Name != "" {
			fmt.Fprintf(&b, " %q", v.Name)
		}
		b.WriteByte('\n')
		switch {
		case op.GetSource() != nil:
			src := op.GetSource()
			fmt.Fprintf(&b, "  source %s\n", src.Identifier)
			keys := make([]string, 0, len(src.Attrs))
			for k := range src.Attrs {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				fmt.Fprintf(&b, "    %s=%s\n", k, src.Attrs[k])
			}
		case op.GetExec() != nil:
			ex := op.GetExec()
			fmt.Fprintf(&b, "  exec %s\n", strings.Join(ex.Meta.Args, " "))
			for _, e := range ex.Meta.Env {
				fmt.Fprintf(&b, "    env %s\n", e)
			}
			fmt.Fprintf(&b, "    cwd %s user %q network %s\n", ex.Meta.Cwd, ex.Meta.User, ex.Network)
			for _, m := range ex.Mounts {
				from := "scratch"
				if m.Input >= 0 {
					from = inputs[m.Input]
				}
				fmt.Fprintf(&b, "    mount %s <- %s", m.Dest, from)
				if m.Readonly {
					b.WriteString(" readonly")
				}
				if m.Output >= 0 {
					fmt.Fprintf(&b, " output %d", m.Output)
				}
				b.WriteByte('\n')
			}
		case op.GetMerge() != nil:
			fmt.Fprintf(&b, "  merge %s\n", strings.Join(inputs, " "))
		case op.GetFile() != nil:
			for _, a := range op.GetFile().Actions {
				dt, err := json.Marshal(a)
				if err != nil {
					return "", err
				}
				fmt.Fprintf(&b, "  file %s\n", dt)
			}
			fmt.Fprintf(&b, "    inputs %s\n", strings.Join(inputs, " "))
		default:
			fmt.Fprintf(&b, "  result %s\n", strings.Join(inputs, " "))
		}
	}
	return b.String(), nil
}
