package maven

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/envkit/envkit/internal/netfetch"
	"github.com/envkit/envkit/internal/spec"
)

// DefaultRepository is Maven Central, used when the definition names none.
const DefaultRepository = "https://repo1.maven.org/maven2"

// Options say where POMs and jars come from.
type Options struct {
	// Repositories are searched in order (Spark's --repositories); Maven
	// Central is appended unless it is listed or NoCentral is set.
	Repositories []string
	NoCentral    bool
	// Net downloads; netfetch.Default when nil.
	Net *netfetch.Client
}

// maxPOM bounds a POM or .sha1 file, read into memory.
const maxPOM = 64 << 20

// Jar is one resolved artifact, pinned.
type Jar struct {
	Coordinate
	Classifier string
	// URL is where the jar was found; SHA256 its digest.
	URL    string
	SHA256 string
	// RequiredBy is the coordinate that pulled it in ("" for a root).
	RequiredBy string
}

// Filename is the jar's file name in the repository layout.
func (j Jar) Filename() string {
	if j.Classifier != "" {
		return j.Artifact + "-" + j.Version + "-" + j.Classifier + ".jar"
	}
	return j.Artifact + "-" + j.Version + ".jar"
}

type resolver struct {
	ctx   context.Context
	repos []string
	net   *netfetch.Client
	poms  map[string]*effective
}

// effective is a POM with its parents applied.
type effective struct {
	coord     Coordinate
	repo      string
	packaging string
	props     map[string]string
	managed   map[string]dependency // by group:artifact
	deps      []dependency
	// licenses are the POM's licence names, else its parent's.
	licenses []string
}

// Resolve resolves roots and their compile and runtime dependencies
// (optional, test, provided and system ones are left out, exclusions
// apply to their subtree). Mediation is Maven's: the version nearest to a
// root wins, the first declared on a tie. Jars are downloaded, checked
// against the repository's .sha1 when there is one, and pinned by sha256.
func Resolve(ctx context.Context, roots []Coordinate, opts Options) ([]Jar, error) {
	r := newResolver(ctx, opts)
	type item struct {
		coord      Coordinate
		from       string
		exclusions map[string]bool
		classifier string
	}
	queue := []item{}
	for _, c := range roots {
		queue = append(queue, item{coord: c, exclusions: map[string]bool{}})
	}
	chosen := map[string]bool{}
	var out []Jar
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		if chosen[it.coord.key()] {
			continue
		}
		chosen[it.coord.key()] = true
		eff, err := r.pom(it.coord, 0)
		if err != nil {
			if it.from != "" {
				return nil, withMirrorHint(fmt.Errorf("%s (required by %s): %w", it.coord, it.from, err))
			}
			return nil, withMirrorHint(fmt.Errorf("%s: %w", it.coord, err))
		}
		if eff.packaging != "pom" {
			jar, err := r.jar(eff, it.classifier)
			if err != nil {
				return nil, withMirrorHint(err)
			}
			jar.RequiredBy = it.from
			out = append(out, jar)
		}
		for _, d := range eff.deps {
			dep, ok, err := eff.apply(d)
			if err != nil {
				return nil, fmt.Errorf("%s: %v", it.coord, err)
			}
			if !ok || it.exclusions[dep.key()] || it.exclusions[dep.Group+":*"] {
				continue
			}
			excl := map[string]bool{}
			for k := range it.exclusions {
				excl[k] = true
			}
			for _, e := range d.Exclusions {
				excl[e.GroupID+":"+e.ArtifactID] = true
			}
			queue = append(queue, item{coord: dep, from: it.coord.String(), exclusions: excl, classifier: d.Classifier})
		}
	}
	return out, nil
}

// apply resolves a dependency's version (managed versions, properties)
// and says whether it is on the runtime classpath.
func (e *effective) apply(d dependency) (Coordinate, bool, error) {
	group, artifact := e.expand(d.GroupID), e.expand(d.ArtifactID)
	m := e.managed[group+":"+artifact]
	scope := d.Scope
	if scope == "" {
		scope = e.expand(m.Scope)
	}
	if scope == "test" || scope == "provided" || scope == "system" || scope == "import" || strings.TrimSpace(d.Optional) == "true" {
		return Coordinate{}, false, nil
	}
	if t := d.Type; t != "" && t != "jar" && t != "bundle" {
		return Coordinate{}, false, nil
	}
	version := d.Version
	if version == "" {
		version = m.Version
	}
	version = e.expand(version)
	if version == "" {
		return Coordinate{}, false, fmt.Errorf("dependency %s:%s has no version (none managed either)", group, artifact)
	}
	if strings.ContainsAny(version, "[]()${}") {
		return Coordinate{}, false, fmt.Errorf("dependency %s:%s: version %q: ranges and unknown properties are not resolved; pin a version in the definition", group, artifact, version)
	}
	return Coordinate{group, artifact, version}, true, nil
}

var property = regexp.MustCompile(`\$\{([^}]+)\}`)

// expand substitutes ${...} properties (several rounds: properties refer
// to properties).
func (e *effective) expand(s string) string {
	s = strings.TrimSpace(s)
	for range 8 {
		if !strings.Contains(s, "${") {
			return s
		}
		next := property.ReplaceAllStringFunc(s, func(m string) string {
			if v, ok := e.props[m[2:len(m)-1]]; ok {
				return v
			}
			return m
		})
		if next == s {
			return s
		}
		s = next
	}
	return s
}

func newResolver(ctx context.Context, opts Options) *resolver {
	r := &resolver{ctx: ctx, net: netfetch.Or(opts.Net), poms: map[string]*effective{}}
	for _, repo := range opts.Repositories {
		r.repos = append(r.repos, strings.TrimSuffix(repo, "/"))
	}
	central := false
	for _, repo := range r.repos {
		central = central || repo == DefaultRepository
	}
	if !central && !opts.NoCentral {
		r.repos = append(r.repos, DefaultRepository)
	}
	return r
}

// Licenses are the licence names each jar's POM declares (its parents'
// when it declares none; any one of them applies), by coordinate.
func Licenses(ctx context.Context, jars []Jar, opts Options) (map[Coordinate][]string, error) {
	r := newResolver(ctx, opts)
	out := map[Coordinate][]string{}
	for _, j := range jars {
		e, err := r.pom(j.Coordinate, 0)
		if err != nil {
			return nil, withMirrorHint(fmt.Errorf("%s: %w", j.Coordinate, err))
		}
		out[j.Coordinate] = e.licenses
	}
	return out, nil
}

// pom fetches and merges a POM with its parents.
func (r *resolver) pom(c Coordinate, depth int) (*effective, error) {
	if e, ok := r.poms[c.String()]; ok {
		return e, nil
	}
	if err := c.check(); err != nil {
		return nil, fmt.Errorf("%s: %w", c, err)
	}
	if depth > 16 {
		return nil, fmt.Errorf("parent POMs nested deeper than 16 (a cycle?)")
	}
	data, repo, err := r.find(c.path() + c.Artifact + "-" + c.Version + ".pom")
	if err != nil {
		return nil, err
	}
	p, err := parsePOM(data)
	if err != nil {
		return nil, fmt.Errorf("%s: POM: %v", c, err)
	}
	e := &effective{coord: c, repo: repo, packaging: p.Packaging, props: map[string]string{}, managed: map[string]dependency{}}
	if p.Parent != nil {
		parent, err := r.pom(Coordinate{p.Parent.GroupID, p.Parent.ArtifactID, p.Parent.Version}, depth+1)
		if err != nil {
			return nil, fmt.Errorf("parent of %s: %v", c, err)
		}
		for k, v := range parent.props {
			e.props[k] = v
		}
		for k, v := range parent.managed {
			e.managed[k] = v
		}
		e.deps = append(e.deps, parent.deps...)
		e.licenses = parent.licenses
		e.props["project.parent.version"] = parent.coord.Version
		e.props["project.parent.groupId"] = parent.coord.Group
	}
	for _, entry := range p.Properties.Entries {
		e.props[entry.XMLName.Local] = strings.TrimSpace(entry.Value)
	}
	for _, k := range []string{"project.", "pom.", ""} {
		e.props[k+"groupId"] = c.Group
		e.props[k+"artifactId"] = c.Artifact
		e.props[k+"version"] = c.Version
	}
	for _, d := range p.DependencyManagement.Dependencies {
		if d.Scope == "import" && d.Type == "pom" {
			bom, err := r.pom(Coordinate{e.expand(d.GroupID), e.expand(d.ArtifactID), e.expand(d.Version)}, depth+1)
			if err != nil {
				return nil, fmt.Errorf("BOM imported by %s: %v", c, err)
			}
			for k, v := range bom.managed {
				if _, ok := e.managed[k]; !ok {
					e.managed[k] = v
				}
			}
			continue
		}
		e.managed[e.expand(d.GroupID)+":"+e.expand(d.ArtifactID)] = d
	}
	e.deps = append(e.deps, p.Dependencies...)
	if len(p.Licenses) > 0 {
		e.licenses = nil
		for _, l := range p.Licenses {
			e.licenses = append(e.licenses, strings.TrimSpace(l))
		}
	}
	if e.packaging == "" {
		e.packaging = "jar"
	}
	r.poms[c.String()] = e
	return e, nil
}

// withMirrorHint says, for a repository out of reach, how to read from a
// mirror instead.
func withMirrorHint(err error) error {
	if !netfetch.Unreachable(err) {
		return err
	}
	return fmt.Errorf("%w\n(a repository out of reach can be replaced by a mirror: list it first under the definition's spark repositories; the first repository that has a POM serves it and its jar)", err)
}

// find GETs a repository path from the first repository that has it.
func (r *resolver) find(rel string) ([]byte, string, error) {
	var tried []string
	for _, repo := range r.repos {
		data, err := r.net.Get(r.ctx, netfetch.Request{URL: repo + "/" + rel, Limit: maxPOM})
		if err == nil {
			return data, repo, nil
		}
		if !netfetch.NotFound(err) {
			return nil, "", err
		}
		tried = append(tried, repo)
	}
	return nil, "", fmt.Errorf("%s: not found in %s", rel, strings.Join(tried, ", "))
}

// jar downloads the artifact's jar from the repository its POM came from
// and checks the .sha1 the repository publishes beside it.
func (r *resolver) jar(e *effective, classifier string) (Jar, error) {
	if classifier != "" && !spec.ValidMavenName(classifier) {
		return Jar{}, fmt.Errorf("%s: classifier %q: want letters, digits and ._-+", e.coord, classifier)
	}
	name := e.coord.Artifact + "-" + e.coord.Version
	if classifier != "" {
		name += "-" + classifier
	}
	url := e.repo + "/" + e.coord.path() + name + ".jar"
	// Hashed as it streams: a jar is never held in memory.
	s1, s256 := sha1.New(), sha256.New()
	err := r.net.Fetch(r.ctx, netfetch.Request{URL: url}, func(resp *netfetch.Response) error {
		s1.Reset()
		s256.Reset()
		_, err := io.Copy(io.MultiWriter(s1, s256), resp.Body)
		return err
	})
	if netfetch.NotFound(err) {
		return Jar{}, fmt.Errorf("%s: no jar at %s", e.coord, url)
	}
	if err != nil {
		return Jar{}, err
	}
	sha1sum, err := r.net.Get(r.ctx, netfetch.Request{URL: url + ".sha1", Limit: maxPOM})
	switch {
	case err == nil:
		// The file may hold "digest  filename".
		want := strings.ToLower(strings.Fields(string(sha1sum) + " ")[0])
		if got := hex.EncodeToString(s1.Sum(nil)); got != want {
			return Jar{}, fmt.Errorf("%s: sha1 %s, the repository's .sha1 says %s", url, got, want)
		}
	case !netfetch.NotFound(err):
		return Jar{}, err
	}
	return Jar{Coordinate: e.coord, Classifier: classifier, URL: url, SHA256: hex.EncodeToString(s256.Sum(nil))}, nil
}
