package spec

import (
	"fmt"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// doc reads the yaml.Node tree of one file, collecting errors with
// positions instead of stopping at the first.
type doc struct {
	file string
	e    *errs
}

func (d *doc) pos(n *yaml.Node) Pos {
	return Pos{File: d.file, Line: n.Line, Col: n.Column}
}

func (d *doc) errorf(n *yaml.Node, format string, a ...any) {
	d.e.add(d.pos(n), format, a...)
}

// field is one key/value pair of a mapping.
type field struct {
	key   string
	kn, v *yaml.Node
}

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	n = resolve(n)
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "null"
		case "!!bool":
			return "a boolean"
		case "!!int", "!!float":
			return "a number"
		}
		return "a string"
	}
	return "a document"
}

// mapping returns the fields of a mapping node, reporting keys that are
// not in allowed (with a did-you-mean suggestion) and duplicate keys.
func (d *doc) mapping(n *yaml.Node, what string, allowed []string) ([]field, bool) {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "%s must be a mapping, got %s", what, kindName(n))
		return nil, false
	}
	seen := map[string]bool{}
	// present are the mapping's keys: a did-you-mean naming one of them
	// would have the user write it twice.
	present := map[string]bool{}
	for i := 0; i < len(n.Content); i += 2 {
		present[n.Content[i].Value] = true
	}
	var out []field
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		if kn.Kind != yaml.ScalarNode {
			d.errorf(kn, "%s: keys must be strings, got %s", what, kindName(kn))
			continue
		}
		k := kn.Value
		if seen[k] {
			d.errorf(kn, "%s: duplicate key %q", what, k)
			continue
		}
		seen[k] = true
		if allowed != nil && !contains(allowed, k) {
			if hint, ok := otherFormatKeys[k]; ok && what == "definition" {
				d.errorf(kn, "%s: unknown key %q; %s", what, k, hint)
			} else if hint, ok := mlflowKeys[k]; ok && what == "conda environment" {
				d.errorf(kn, "%s: unknown key %q; %s", what, k, hint)
			} else {
				d.errorf(kn, "%s: unknown key %q%s", what, k, didYouMean(k, allowed, present))
			}
			continue
		}
		out = append(out, field{k, kn, v})
	}
	return out, true
}

// otherFormatKeys explains keys of other formats found in an envkit file
// (format detection picked native because native keys were there too).
var otherFormatKeys = map[string]string{
	"image":                "envkit YAML writes base.image (image is Azure ML v2)",
	"build":                "envkit YAML writes base.dockerfile and base.context (build is Azure ML v2)",
	"conda_file":           "envkit YAML writes conda.file (conda_file is Azure ML v2)",
	"channels":             "envkit YAML writes conda.channels",
	"dependencies":         "envkit YAML writes conda.dependencies",
	"variables":            "envkit YAML writes conda.variables or env",
	"environmentVariables": "envkit YAML writes env (environmentVariables is Azure ML v1)",
	"docker":               "envkit YAML writes base (docker is Azure ML v1)",
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// str reads a scalar as text. Numbers and booleans are taken as written
// ("3.10" stays "3.10" only when quoted; YAML reads 3.10 as a number whose
// text is still "3.10"). null gives "".
func (d *doc) str(n *yaml.Node, what string) (string, bool) {
	n = resolve(n)
	if isNull(n) {
		return "", true
	}
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, "%s must be a string, got %s", what, kindName(n))
		return "", false
	}
	return n.Value, true
}

func (d *doc) boolean(n *yaml.Node, what string) (bool, bool) {
	n = resolve(n)
	if isNull(n) {
		return false, true
	}
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		d.errorf(n, "%s must be true or false, got %s", what, kindName(n))
		return false, false
	}
	var b bool
	if err := n.Decode(&b); err != nil {
		d.errorf(n, "%s: %v", what, err)
		return false, false
	}
	return b, true
}

// seq returns the items of a list node; null is an empty list.
func (d *doc) seq(n *yaml.Node, what string) ([]*yaml.Node, bool) {
	n = resolve(n)
	if isNull(n) {
		return nil, true
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, "%s must be a list, got %s", what, kindName(n))
		return nil, false
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		out[i] = resolve(c)
	}
	return out, true
}

// strList reads a list of strings.
func (d *doc) strList(n *yaml.Node, what string) []string {
	items, _ := d.seq(n, what)
	var out []string
	for _, it := range items {
		if s, ok := d.str(it, what+" entries"); ok {
			out = append(out, s)
		}
	}
	return out
}

// reqList reads a list of requirement strings with their positions.
func (d *doc) reqList(n *yaml.Node, what string) []Requirement {
	items, _ := d.seq(n, what)
	var out []Requirement
	for _, it := range items {
		if it.Kind != yaml.ScalarNode || isNull(it) {
			d.errorf(it, "%s entries must be strings, got %s", what, kindName(it))
			continue
		}
		out = append(out, Requirement{Spec: it.Value, Pos: d.pos(it)})
	}
	return out
}

// envMap reads a mapping of environment variable names to scalar values, in
// file order.
func (d *doc) envMap(n *yaml.Node, what string) []EnvVar {
	if isNull(n) {
		return nil
	}
	fields, ok := d.mapping(n, what, nil)
	if !ok {
		return nil
	}
	var out []EnvVar
	for _, f := range fields {
		v, ok := d.str(f.v, fmt.Sprintf("%s.%s", what, f.key))
		if !ok {
			continue
		}
		out = append(out, EnvVar{Name: f.key, Value: v, Pos: d.pos(f.kn)})
	}
	return out
}

// strMap reads a mapping of strings (tags).
func (d *doc) strMap(n *yaml.Node, what string) map[string]string {
	if isNull(n) {
		return nil
	}
	fields, ok := d.mapping(n, what, nil)
	if !ok {
		return nil
	}
	out := map[string]string{}
	for _, f := range fields {
		if v, ok := d.str(f.v, what+"."+f.key); ok {
			out[f.key] = v
		}
	}
	return out
}

// didYouMean suggests the closest allowed key not already present when it
// is close enough to be a typo, else lists the allowed keys.
func didYouMean(k string, allowed []string, present map[string]bool) string {
	var absent []string
	for _, a := range allowed {
		if !present[a] {
			absent = append(absent, a)
		}
	}
	if best, ok := closest(k, absent); ok {
		return fmt.Sprintf("; did you mean %q?", best)
	}
	cands := append([]string(nil), allowed...)
	sort.Strings(cands)
	return " (allowed: " + strings.Join(cands, ", ") + ")"
}

// closest is the candidate nearest to k (case-insensitive edit distance,
// the first in sorted order on a tie), when it is close enough to be a
// typo of k.
func closest(k string, cands []string) (string, bool) {
	best, bestD := "", 1<<30
	sorted := append([]string(nil), cands...)
	sort.Strings(sorted)
	for _, a := range sorted {
		if dist := editDistance(strings.ToLower(k), strings.ToLower(a)); dist < bestD {
			best, bestD = a, dist
		}
	}
	return best, best != "" && bestD <= max(2, len(k)/3)
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// identity reads the keys that name a definition without entering its hash
// (name, version, description, tags), spelled alike in the native and Azure
// ML v2 formats; it reports whether f was one of them.
func (d *doc) identity(def *Definition, f field) bool {
	switch f.key {
	case "name":
		def.Name, _ = d.str(f.v, "name")
	case "version":
		def.Version, _ = d.str(f.v, "version")
	case "description":
		def.Description, _ = d.str(f.v, "description")
	case "tags":
		def.Tags = d.strMap(f.v, "tags")
	default:
		return false
	}
	return true
}
