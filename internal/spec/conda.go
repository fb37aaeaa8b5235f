package spec

import (
	"path"

	"go.yaml.in/yaml/v3"
)

// condaFileKeys are the keys conda accepts in environment.yml (the same list
// Azure ML enforces: CondaDependencies._VALID_YML_KEYS).
var condaFileKeys = []string{"name", "channels", "dependencies", "variables", "prefix"}

// readConda reads a conda environment mapping. what prefixes messages
// ("conda" for the native inline form, "" for a conda file).
func (r *reader) readConda(d *doc, n *yaml.Node, what string) *CondaEnv {
	allowed := condaFileKeys
	if what != "" {
		allowed = nativeCondaKeys
	}
	fields, ok := d.mapping(n, orTop(what, "conda environment"), allowed)
	if !ok {
		return nil
	}
	env := &CondaEnv{Pos: d.pos(n)}
	for _, f := range fields {
		key := join(what, f.key)
		switch f.key {
		case "name":
			env.Name, _ = d.str(f.v, key)
		case "channels":
			items, _ := d.seq(f.v, key)
			for _, it := range items {
				if s, ok := d.str(it, key+" entries"); ok {
					env.Channels = append(env.Channels, Channel{Name: s, Pos: d.pos(it)})
				}
			}
		case "dependencies":
			r.readCondaDeps(d, env, f.v, key)
		case "variables":
			env.Variables = d.envMap(f.v, key)
		}
	}
	return env
}

func (r *reader) readCondaDeps(d *doc, env *CondaEnv, n *yaml.Node, key string) {
	items, _ := d.seq(n, key)
	pipSeen := false
	for _, it := range items {
		switch {
		case it.Kind == yaml.ScalarNode && !isNull(it):
			env.Dependencies = append(env.Dependencies, Requirement{Spec: it.Value, Pos: d.pos(it)})
		case it.Kind == yaml.MappingNode:
			fields, ok := d.mapping(it, key+" entries", []string{"pip"})
			if !ok || len(fields) == 0 {
				continue
			}
			if pipSeen {
				d.errorf(it, "%s: more than one pip: section", key)
				continue
			}
			pipSeen = true
			env.Pip = r.expandPip(d, d.reqList(fields[0].v, key+".pip"))
		default:
			d.errorf(it, "%s entries must be conda specs or a pip: list, got %s", key, kindName(it))
		}
	}
}

// readCondaFile reads a referenced conda environment file; it returns the
// environment and the file's prefix:.
func (r *reader) readCondaFile(d *doc, n *yaml.Node, rel, what string) (*CondaEnv, string) {
	data, fsPath, ok := r.readRef(d, n, rel, what)
	if !ok {
		return nil, ""
	}
	cd := &doc{file: r.display(fsPath), e: d.e}
	// A pip -r inside the conda file resolves relative to the conda file.
	defer func(dir string) { r.dir = dir }(r.dir)
	r.dir = path.Dir(fsPath)
	root, ok := r.decode(cd, data)
	if !ok {
		return nil, ""
	}
	env := r.readConda(cd, root, "")
	if env == nil {
		return nil, ""
	}
	env.File = rel
	return env, condaPrefix(cd, root)
}

// condaPrefix reads the prefix: key of a conda file's root mapping.
func condaPrefix(d *doc, root *yaml.Node) string {
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "prefix" {
			s, _ := d.str(root.Content[i+1], "prefix")
			return s
		}
	}
	return ""
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

func orTop(what, top string) string {
	if what == "" {
		return top
	}
	return what
}
