package spec

import (
	"bytes"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Write renders def in format to (native, azureml or conda). Fields the
// target format cannot hold are listed in dropped; unless lossy, any such
// field is an error and nothing is rendered.
func Write(def *Definition, to Format, lossy bool) (out []byte, dropped []string, err error) {
	if err := writablePip(def); err != nil {
		return nil, nil, err
	}
	var root *yaml.Node
	switch to {
	case FormatNative:
		root = nativeNode(def)
	case FormatAzureMLv2:
		if root, dropped, err = azureNode(def); err != nil {
			return nil, nil, err
		}
	case FormatConda:
		root, dropped = condaFileNode(def)
	default:
		return nil, nil, fmt.Errorf("cannot write format %q: want native, azureml or conda", to)
	}
	if len(dropped) > 0 && !lossy {
		return nil, dropped, fmt.Errorf("%s cannot hold %s; convert to native, or drop them with --lossy", to, strings.Join(dropped, ", "))
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return nil, nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, nil, err
	}
	return buf.Bytes(), dropped, nil
}

// Node builders.

func str(s string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	if strings.Contains(s, "\n") {
		n.Style = yaml.LiteralStyle
	}
	return n
}

func boolean(b bool) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(b)}
}

func seqOf(items []string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode}
	for _, s := range items {
		n.Content = append(n.Content, str(s))
	}
	return n
}

type mapNode struct{ n *yaml.Node }

func newMap() mapNode { return mapNode{&yaml.Node{Kind: yaml.MappingNode}} }

func (m mapNode) add(key string, v *yaml.Node) {
	m.n.Content = append(m.n.Content, str(key), v)
}

// addStr adds key: s when s is not empty.
func (m mapNode) addStr(key, s string) {
	if s != "" {
		m.add(key, str(s))
	}
}

func envNode(vars []EnvVar) *yaml.Node {
	m := newMap()
	for _, v := range vars {
		m.add(v.Name, str(v.Value))
	}
	return m.n
}

func tagsNode(tags map[string]string) *yaml.Node {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	m := newMap()
	for _, k := range keys {
		m.add(k, str(tags[k]))
	}
	return m.n
}

func anyNode(v any) *yaml.Node {
	var n yaml.Node
	if err := n.Encode(v); err != nil {
		return str(fmt.Sprint(v))
	}
	return &n
}

func (m mapNode) addMeta(def *Definition) {
	m.addStr("name", def.Name)
	m.addStr("version", def.Version)
	m.addStr("description", def.Description)
	if len(def.Tags) > 0 {
		m.add("tags", tagsNode(def.Tags))
	}
}

// condaBody renders a conda environment's keys (name, channels,
// dependencies with pip:, variables, then prefix when given).
func condaBody(c *CondaEnv, prefix string) mapNode {
	m := newMap()
	m.addStr("name", c.Name)
	if len(c.Channels) > 0 {
		m.add("channels", seqOf(c.ChannelNames()))
	}
	deps := seqOf(Specs(c.Dependencies))
	if len(c.Pip) > 0 {
		pip := newMap()
		pip.add("pip", seqOf(pipTexts(c.Pip)))
		deps.Content = append(deps.Content, pip.n)
	}
	m.add("dependencies", deps)
	if len(c.Variables) > 0 {
		m.add("variables", envNode(c.Variables))
	}
	m.addStr("prefix", prefix)
	return m
}

func nativeNode(def *Definition) *yaml.Node {
	m := newMap()
	m.addMeta(def)
	if b := def.Base; b.Image != "" || b.Dockerfile != "" {
		bm := newMap()
		bm.addStr("image", b.Image)
		if b.DockerfilePath != "" {
			bm.add("dockerfile", str(b.DockerfilePath))
		} else if b.Dockerfile != "" {
			text := b.Dockerfile
			if !strings.HasSuffix(text, "\n") {
				text += "\n" // a single line would read back as a path
			}
			bm.add("dockerfile", str(text))
		}
		bm.addStr("context", b.Context)
		m.add("base", bm.n)
	}
	if len(def.Steps) > 0 {
		steps := make([]string, len(def.Steps))
		for i, s := range def.Steps {
			steps[i] = s.Instruction
		}
		m.add("steps", seqOf(steps))
	}
	if c := def.Conda; c != nil {
		if c.File != "" {
			cm := newMap()
			cm.add("file", str(c.File))
			m.add("conda", cm.n)
		} else {
			m.add("conda", condaBody(c, "").n)
		}
	}
	if len(def.Pip) > 0 {
		m.add("pip", seqOf(pipTexts(def.Pip)))
	}
	if len(def.Env) > 0 {
		m.add("env", envNode(def.Env))
	}
	if def.Python.UserManaged || def.Python.Interpreter != "" {
		pm := newMap()
		pm.add("user_managed", boolean(def.Python.UserManaged))
		pm.addStr("interpreter", def.Python.Interpreter)
		m.add("python", pm.n)
	}
	// A referenced conda file carries its own prefix.
	if def.Conda == nil || def.Conda.File == "" {
		m.addStr("prefix", def.Prefix)
	}
	if s := def.Spark; s != nil {
		sm := newMap()
		if len(s.Repositories) > 0 {
			sm.add("repositories", seqOf(s.Repositories))
		}
		if len(s.Packages) > 0 {
			pk := &yaml.Node{Kind: yaml.SequenceNode}
			for _, p := range s.Packages {
				pm := newMap()
				pm.add("group", str(p.Group))
				pm.add("artifact", str(p.Artifact))
				pm.add("version", str(p.Version))
				pk.Content = append(pk.Content, pm.n)
			}
			sm.add("packages", pk)
		}
		sm.add("precache", boolean(s.Precache))
		m.add("spark", sm.n)
	}
	if len(def.Platforms) > 0 {
		m.add("platforms", seqOf(def.Platforms))
	}
	if a := def.AzureML; a.OSType != "" || a.InferenceConfig != nil {
		am := newMap()
		am.addStr("os_type", a.OSType)
		if a.InferenceConfig != nil {
			am.add("inference_config", anyNode(a.InferenceConfig))
		}
		m.add("azureml", am.n)
	}
	return m.n
}

// notIn lists the parts of def outside what the Azure ML v2 and conda
// formats share with envkit.
func notIn(def *Definition) []string {
	var out []string
	if len(def.Steps) > 0 {
		out = append(out, "steps")
	}
	if len(def.Pip) > 0 {
		out = append(out, "pip")
	}
	if len(def.Env) > 0 {
		names := make([]string, len(def.Env))
		for i, v := range def.Env {
			names[i] = v.Name
		}
		out = append(out, "env ("+strings.Join(names, ", ")+")")
	}
	// The interpreter matters only when the image provides python (as
	// the hash sees it): Azure ML v1 saves "python" in every environment.
	if def.Python.UserManaged {
		out = append(out, "python.user_managed")
	}
	if def.Spark != nil {
		out = append(out, "spark")
	}
	if len(def.Platforms) > 0 {
		out = append(out, "platforms ("+strings.Join(def.Platforms, ", ")+")")
	}
	return out
}

// azureNode renders def as Azure ML v2 YAML. A base Azure ML cannot hold
// (an inline Dockerfile, one outside its context) is an error even when
// lossy: Azure ML requires image or build, and a file without either would
// not validate.
func azureNode(def *Definition) (*yaml.Node, []string, error) {
	dropped := notIn(def)
	m := newMap()
	m.add("$schema", str(AzureMLSchema))
	m.addMeta(def)
	b := def.Base
	switch {
	case b.Image != "":
		m.add("image", str(b.Image))
	case b.DockerfilePath != "":
		ctx := b.Context
		if ctx == "" {
			ctx = "."
		}
		bm := newMap()
		bm.add("path", str(ctx))
		rel := strings.TrimPrefix(b.DockerfilePath, strings.TrimSuffix(ctx, "/")+"/")
		if ctx == "." || b.Git != nil {
			rel = b.DockerfilePath // a git context's is inside it already
		}
		if rel == b.DockerfilePath && ctx != "." && b.Git == nil || path.IsAbs(rel) {
			return nil, nil, fmt.Errorf("azureml cannot hold base.dockerfile %s outside base.context %s (Azure ML reads the Dockerfile from its build context): move it into the context, or convert to native", b.DockerfilePath, ctx)
		} else if rel != "Dockerfile" {
			bm.add("dockerfile_path", str(rel))
		}
		m.add("build", bm.n)
	case b.Dockerfile != "":
		return nil, nil, fmt.Errorf("azureml cannot hold an inline base.dockerfile (Azure ML builds from a Dockerfile in a build context): write it to a file named by base.dockerfile, or convert to native")
	default:
		return nil, nil, fmt.Errorf("azureml needs a base image: give the definition one")
	}
	if c := def.Conda; c != nil {
		if b.Image == "" {
			// A conda or requirements file names no base: the caller gives
			// it the one the hash uses (buildplan.WithBase) before writing.
			dropped = append(dropped, "conda (Azure ML installs conda_file only on top of image)")
		} else if c.File != "" {
			m.add("conda_file", str(c.File))
		} else {
			m.add("conda_file", condaBody(c, def.Prefix).n)
		}
	} else if def.Prefix != "" {
		dropped = append(dropped, "prefix")
	}
	m.addStr("os_type", def.AzureML.OSType)
	if def.AzureML.InferenceConfig != nil {
		m.add("inference_config", anyNode(def.AzureML.InferenceConfig))
	}
	return m.n, dropped, nil
}

func condaFileNode(def *Definition) (*yaml.Node, []string) {
	dropped := notIn(def)
	if def.Base.Image != "" || def.Base.Dockerfile != "" {
		dropped = append(dropped, "base")
	}
	if def.Version != "" || def.Description != "" || len(def.Tags) > 0 {
		dropped = append(dropped, "version, description and tags")
	}
	if def.AzureML.OSType != "" || def.AzureML.InferenceConfig != nil {
		dropped = append(dropped, "azureml")
	}
	c := def.Conda
	if c == nil {
		c = &CondaEnv{}
	}
	body := condaBody(c, def.Prefix)
	if c.Name == "" && def.Name != "" {
		body.n.Content = append([]*yaml.Node{str("name"), str(def.Name)}, body.n.Content...)
	} else if def.Name != "" && def.Name != c.Name {
		dropped = append(dropped, "name (the conda file has its own)")
	}
	return body.n, dropped
}
