package lock

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/envkit/envkit/internal/credentials"
	"go.yaml.in/yaml/v3"
)

// ReadFile reads a conda-lock v1 file.
func ReadFile(path string) (*Lock, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Read(path, data)
}

// Read parses a conda-lock v1 file; name is used in FILE:LINE:COL
// errors. Keys envkit does not use are ignored, as conda-lock's optional
// metadata and micromamba's extensions must not stop a read.
func Read(name string, data []byte) (*Lock, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	r := reader{name: name, lines: strings.Split(string(data), "\n")}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s: empty lock file", name)
	}
	root := doc.Content[0]
	top := r.mapping(root, "the lock file")
	if r.err != nil {
		return nil, r.err
	}
	version := top["version"]
	switch {
	case version == nil:
		return nil, r.at(root, "no version: not a conda-lock file")
	case version.Value != "1":
		return nil, r.at(version, "conda-lock version %s: envkit reads version 1 (CEP 37)", version.Value)
	}
	l := &Lock{}
	if md := top["metadata"]; md == nil {
		r.fail(root, "no metadata")
	} else {
		l.Metadata = r.metadata(md)
	}
	if pkgs := top["package"]; pkgs != nil {
		r.packages(l, pkgs)
	}
	r.applySizes(l)
	if r.err != nil {
		return nil, r.err
	}
	return l, nil
}

// reader keeps the first error; later checks become no-ops.
type reader struct {
	name string
	err  error
	// lines are the file's, to point into a one-line value (entryAt).
	lines []string
	// sizes are custom_metadata's package sizes by platform, for
	// applySizes.
	sizes []platformSizes
}

// platformSizes is one SizesPrefix entry of custom_metadata.
type platformSizes struct {
	platform string
	sizes    map[string]int64
	offsets  map[string]int // byte of each entry in the value
	node     *yaml.Node     // its value, for errors
}

// entryAt is the node of a scalar's text from byte offset on, for errors
// that point at one entry of a long value. Only a plain scalar written on
// its node's line maps bytes to columns; for others it is the value's node.
func (r *reader) entryAt(n *yaml.Node, offset int) *yaml.Node {
	if n.Style != 0 || n.Line < 1 || n.Line > len(r.lines) || n.Column < 1 {
		return n
	}
	line := r.lines[n.Line-1]
	// Columns count characters; the prefix must be ASCII to count bytes.
	if n.Column-1 > len(line) || !isASCII(line[:n.Column-1]) || !strings.HasPrefix(line[n.Column-1:], n.Value) {
		return n
	}
	return &yaml.Node{Line: n.Line, Column: n.Column + len([]rune(n.Value[:offset]))}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func (r *reader) at(n *yaml.Node, format string, args ...any) error {
	return fmt.Errorf("%s:%d:%d: %s", r.name, n.Line, n.Column, fmt.Sprintf(format, args...))
}

func (r *reader) fail(n *yaml.Node, format string, args ...any) {
	if r.err == nil {
		r.err = r.at(n, format, args...)
	}
}

// SizesError is a lock that cannot be read because of its SizesPrefix
// entries; its message says how to mend it keeping the pins (SizesFix).
type SizesError struct{ err error }

func (e *SizesError) Error() string { return e.err.Error() }

// failSizes is fail for the SizesPrefix entries.
func (r *reader) failSizes(n *yaml.Node, format string, args ...any) {
	if r.err == nil {
		r.err = &SizesError{r.at(n, format, args...)}
	}
}

func (r *reader) mapping(n *yaml.Node, what string) map[string]*yaml.Node {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		r.fail(n, "%s: want a mapping", what)
		return nil
	}
	m := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if _, dup := m[k.Value]; dup {
			r.fail(k, "%s: key %q repeated", what, k.Value)
		}
		m[k.Value] = n.Content[i+1]
	}
	return m
}

func (r *reader) sequence(n *yaml.Node, what string) []*yaml.Node {
	n = deref(n)
	if n.Kind != yaml.SequenceNode {
		r.fail(n, "%s: want a list", what)
		return nil
	}
	return n.Content
}

func (r *reader) str(n *yaml.Node, what string) string {
	if n == nil {
		return ""
	}
	n = deref(n)
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		if n.Kind == yaml.ScalarNode {
			return ""
		}
		r.fail(n, "%s: want a string", what)
		return ""
	}
	return n.Value
}

func (r *reader) strings(n *yaml.Node, what string) []string {
	if n == nil {
		return nil
	}
	out := []string{}
	for _, e := range r.sequence(n, what) {
		out = append(out, r.str(e, what))
	}
	return out
}

func (r *reader) stringMap(n *yaml.Node, what string) map[string]string {
	if n == nil || deref(n).Tag == "!!null" {
		return nil
	}
	m := r.mapping(n, what)
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = r.str(v, what+"."+k)
	}
	return out
}

func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func (r *reader) metadata(n *yaml.Node) Metadata {
	m := r.mapping(n, "metadata")
	md := Metadata{
		ContentHash: r.stringMap(m["content_hash"], "metadata.content_hash"),
		Platforms:   r.strings(m["platforms"], "metadata.platforms"),
		Sources:     r.strings(m["sources"], "metadata.sources"),
		Custom:      r.stringMap(m["custom_metadata"], "metadata.custom_metadata"),
	}
	if c := m["custom_metadata"]; c != nil && r.err == nil {
		md.Custom = r.takeSizes(c, md.Custom)
	}
	if m["channels"] != nil {
		for _, c := range r.sequence(m["channels"], "metadata.channels") {
			// conda-lock reads plain strings too (Channel.from_string).
			if deref(c).Kind == yaml.ScalarNode {
				md.Channels = append(md.Channels, Channel{URL: r.str(c, "metadata.channels")})
				continue
			}
			cm := r.mapping(c, "metadata.channels entry")
			if cm == nil {
				continue
			}
			if cm["url"] == nil {
				r.fail(c, "metadata.channels entry: no url")
			}
			md.Channels = append(md.Channels, Channel{
				URL:         r.str(cm["url"], "channel url"),
				UsedEnvVars: r.strings(cm["used_env_vars"], "channel used_env_vars"),
			})
		}
	}
	for _, need := range []string{"content_hash", "channels", "platforms"} {
		if m != nil && m[need] == nil {
			r.fail(n, "metadata: no %s", need)
		}
	}
	return md
}

// takeSizes parses custom's SizesPrefix entries (n is custom_metadata's
// node) for applySizes and returns custom without them, nil when nothing
// else is left.
func (r *reader) takeSizes(n *yaml.Node, custom map[string]string) map[string]string {
	n = deref(n)
	for i := 0; i+1 < len(n.Content); i += 2 {
		key := n.Content[i].Value
		platform, ok := strings.CutPrefix(key, SizesPrefix)
		if !ok {
			continue
		}
		value := deref(n.Content[i+1])
		if platform == "" {
			r.failSizes(value, "metadata.custom_metadata %s: no platform after %s: delete the entry (the lock builds without it)", key, SizesPrefix)
			return nil
		}
		sizes, offsets, err := parseSizes(custom[key])
		if se, ok := err.(*sizesError); ok {
			r.failSizes(r.entryAt(value, se.offset), "metadata.custom_metadata %s: %v: %s", key, err, SizesFix(platform))
			return nil
		}
		r.sizes = append(r.sizes, platformSizes{platform, sizes, offsets, value})
		delete(custom, key)
	}
	if len(custom) == 0 {
		return nil
	}
	return custom
}

// applySizes sets the Size of the conda entries custom_metadata gives one
// for. A size for a package the lock does not hold means the lock was
// changed after envkit wrote it: an error, not a guess.
func (r *reader) applySizes(l *Lock) {
	if r.err != nil || len(r.sizes) == 0 {
		return
	}
	index := map[[2]string][]int{} // platform, name → conda entries
	for i, p := range l.Packages {
		if p.Manager == Conda {
			k := [2]string{p.Platform, p.Name}
			index[k] = append(index[k], i)
		}
	}
	for _, ps := range r.sizes {
		for _, name := range slices.Sorted(maps.Keys(ps.sizes)) {
			entries := index[[2]string{ps.platform, name}]
			if len(entries) == 0 {
				r.failSizes(r.entryAt(ps.node, ps.offsets[name]), "metadata.custom_metadata %s%s: %q is no conda package of %s in the lock, which was edited after it was written: %s", SizesPrefix, ps.platform, name, ps.platform, SizesFix(ps.platform))
				return
			}
			for _, i := range entries {
				l.Packages[i].Size = ps.sizes[name]
			}
		}
	}
}

type key struct{ manager, name, platform, category string }

func (r *reader) packages(l *Lock, n *yaml.Node) {
	if deref(n).Tag == "!!null" {
		return
	}
	seen := map[key]bool{}
	for _, e := range r.sequence(n, "package") {
		m := r.mapping(e, "package entry")
		if m == nil {
			return
		}
		p := Package{
			Name:         r.str(m["name"], "name"),
			Version:      r.str(m["version"], "version"),
			Manager:      r.str(m["manager"], "manager"),
			Platform:     r.str(m["platform"], "platform"),
			Dependencies: r.stringMap(m["dependencies"], "dependencies"),
			URL:          r.str(m["url"], "url"),
			Category:     r.str(m["category"], "category"),
			Build:        r.str(m["build"], "build"),
		}
		if h := m["hash"]; h != nil {
			hm := r.mapping(h, "hash")
			p.Hash = Hash{MD5: r.str(hm["md5"], "hash.md5"), SHA256: r.str(hm["sha256"], "hash.sha256")}
		}
		if o := m["optional"]; o != nil {
			b, err := strconv.ParseBool(r.str(o, "optional"))
			if err != nil {
				r.fail(o, "optional: want true or false")
			}
			p.Optional = b
		}
		if p.Category == "" {
			p.Category = "main"
		}
		if err := p.validate(); err != nil {
			r.fail(e, "package %s: %v", p.Name, err)
		} else if credentials.Strip(p.URL) == "" {
			// What Marshal would write: a url that does not parse has none.
			r.fail(m["url"], "package %s: url %q is not a URL (scheme://host/path, or a wheel file's path)", p.Name, p.URL)
		}
		k := key{p.Manager, p.Name, p.Platform, p.Category}
		if seen[k] {
			r.fail(e, "package %s (%s, %s) listed twice", p.Name, p.Manager, p.Platform)
		}
		seen[k] = true
		l.Packages = append(l.Packages, p)
	}
}

func (p *Package) validate() error {
	var missing []string
	for _, f := range []struct{ name, value string }{
		{"name", p.Name}, {"version", p.Version}, {"manager", p.Manager}, {"platform", p.Platform}, {"url", p.URL},
	} {
		if f.value == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("no %s", strings.Join(missing, ", "))
	}
	switch p.Manager {
	case Conda:
		if p.Hash.MD5 == "" && p.Hash.SHA256 == "" {
			return errors.New("conda packages need hash.md5 or hash.sha256")
		}
		if p.Size < 0 || p.Size > 0 && strings.ContainsAny(p.Name, ",=") {
			return fmt.Errorf("size %d: want bytes (0 when unknown), of a package whose name has no ',' or '=' (custom_metadata %s)", p.Size, SizesPrefix)
		}
	case Pip:
	default:
		return fmt.Errorf("manager %q: want conda or pip", p.Manager)
	}
	return nil
}
