// Package sbom describes what envkit builds into an environment, exactly
// and from the lock alone: one component per conda record, pip wheel and
// Spark jar of a platform, and the base image, with purls, checksums,
// download locations, declared licences and dependency edges; written as
// SPDX 2.3 JSON (SPDX) or CycloneDX 1.5 JSON (CycloneDX). It reads no
// network and no clock: the same lock gives the same bytes.
// docs/sbom.md describes the documents.
package sbom

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/distribution/reference"

	"github.com/envkit/envkit/internal/buildplan"
	"github.com/envkit/envkit/internal/conda/channel"
	"github.com/envkit/envkit/internal/conda/lock"
	"github.com/envkit/envkit/internal/conda/matchspec"
	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/envkit/envkit/internal/maven"
	"github.com/envkit/envkit/internal/spec"
	envllb "github.com/envkit/envkit/llb"
)

// Environment is what an SBOM describes: one platform of a locked
// environment and what names it.
type Environment struct {
	// Name is the definition's name, else its file's.
	Name string
	// DefinitionHash and LockHash are what the image's labels carry
	// (buildplan.DefinitionHash, buildplan.Locked.Hash).
	DefinitionHash, LockHash string
	// Subdir is the conda subdir described ("linux-64").
	Subdir string
	// BaseImage is the base image reference, "" for a Dockerfile base;
	// BaseDigest its digest when known.
	BaseImage, BaseDigest string
	Packages              []*repodata.Record
	Wheels                []envllb.Wheel
	// WheelDepends maps a pip package's name to the names it depends on
	// (PipDepends: buildplan.Locked does not keep them); nil when unknown.
	WheelDepends map[string][]string
	// WheelLicenses maps a pip package's name to the licence its METADATA
	// declares; nil when unknown.
	WheelLicenses map[string]string
	Jars          []maven.Jar
	// JarLicenses are the licence names each jar's POM declares
	// (maven.Licenses); nil when unknown.
	JarLicenses map[maven.Coordinate][]string
	// Created is the documents' creation time (SOURCE_DATE_EPOCH).
	Created time.Time
	// ToolVersion is envkit's version.
	ToolVersion string
}

// ForBuild is the Environment of one platform (a conda subdir) of a build
// of def with opts, from its lock as the build reads it
// (buildplan.ReadLock): the same hashes, base and packages the build uses.
func ForBuild(def *spec.Definition, opts buildplan.Options, locked *buildplan.Locked, subdir, toolVersion string) (Environment, error) {
	defHash, err := buildplan.DefinitionHash(def, opts.BaseImage)
	if err != nil {
		return Environment{}, err
	}
	env := Environment{
		Name:           def.Name,
		DefinitionHash: defHash,
		LockHash:       locked.SubdirHash(subdir),
		Subdir:         subdir,
		BaseImage:      buildplan.BaseImage(def, opts.BaseImage),
		Jars:           locked.Jars,
		Created:        opts.Epoch,
		ToolVersion:    toolVersion,
	}
	if env.Name == "" {
		env.Name = strings.TrimSuffix(filepath.Base(def.Source.Path), filepath.Ext(def.Source.Path))
	}
	if def.HasCondaEnvironment() {
		pkgs, ok := locked.Packages[subdir]
		if !ok {
			return Environment{}, fmt.Errorf("%s: not locked for %s: run envkit lock --platform %s %s", buildplan.LockFile, subdir, subdir, def.Source.Path)
		}
		env.Packages, env.Wheels = pkgs, locked.Wheels[subdir]
	}
	if named, err := reference.ParseNormalizedNamed(env.BaseImage); err == nil {
		if d, ok := named.(reference.Digested); ok {
			env.BaseDigest = d.Digest().String()
		}
	}
	return env, nil
}

// Kind is a component's ecosystem: its purl type.
type Kind string

// Kinds of component.
const (
	Conda Kind = "conda"
	PyPI  Kind = "pypi"
	Maven Kind = "maven"
	Image Kind = "oci"
)

// Component is one package of the environment.
type Component struct {
	Kind Kind
	// Group is a Maven group, "" for other kinds.
	Group, Name, Version string
	PURL                 string
	// DownloadURL is where it was downloaded from (RedactURL), "" when
	// unknown.
	DownloadURL string
	SHA256, MD5 string
	License     License
	// DependsOn are the PURLs of the components it depends on, sorted.
	DependsOn []string
	// ID is unique in the document and made of the characters an SPDX
	// identifier allows.
	ID string
}

// BOM is an environment's bill of materials.
type BOM struct {
	Name, DefinitionHash, LockHash, Subdir, ToolVersion string
	Created                                             time.Time
	// Components are sorted by PURL.
	Components []Component
}

// New is the BOM of env. A package that names no name or version, a
// dependency that does not parse, or a package twice is an error.
func New(env Environment) (*BOM, error) {
	b := &BOM{Name: env.Name, DefinitionHash: env.DefinitionHash, LockHash: env.LockHash, Subdir: env.Subdir, ToolVersion: env.ToolVersion, Created: env.Created.UTC()}
	condaPURL := map[string]string{} // conda name -> purl, for depends
	for _, r := range env.Packages {
		c := condaComponent(r)
		condaPURL[r.Name] = c.PURL
		b.Components = append(b.Components, c)
	}
	for i, r := range env.Packages {
		deps, err := condaDepends(r, condaPURL)
		if err != nil {
			return nil, err
		}
		b.Components[i].DependsOn = deps
	}
	pypiPURL := map[string]string{} // normalised name -> purl
	for _, w := range env.Wheels {
		c := Component{
			Kind: PyPI, Name: pypiName(w.Name), Version: w.Version,
			PURL:        purl("pypi", "", pypiName(w.Name), w.Version, nil),
			DownloadURL: RedactURL(w.URL), SHA256: w.SHA256, License: NormalizeLicense(env.WheelLicenses[w.Name]),
		}
		pypiPURL[c.Name] = c.PURL
		b.Components = append(b.Components, c)
	}
	for i, w := range env.Wheels {
		c := &b.Components[len(env.Packages)+i]
		for _, d := range env.WheelDepends[w.Name] {
			if p, ok := pypiPURL[pypiName(d)]; ok && !slices.Contains(c.DependsOn, p) {
				c.DependsOn = append(c.DependsOn, p)
			}
		}
		slices.Sort(c.DependsOn)
	}
	for _, j := range env.Jars {
		b.Components = append(b.Components, Component{
			Kind: Maven, Group: j.Group, Name: j.Artifact, Version: j.Version,
			PURL:        purl("maven", j.Group, j.Artifact, j.Version, map[string]string{"classifier": j.Classifier}),
			DownloadURL: RedactURL(j.URL), SHA256: j.SHA256, License: AnyOfLicenses(env.JarLicenses[j.Coordinate]),
		})
	}
	if env.BaseImage != "" {
		c, err := imageComponent(env.BaseImage, env.BaseDigest)
		if err != nil {
			return nil, err
		}
		b.Components = append(b.Components, c)
	}
	slices.SortFunc(b.Components, func(x, y Component) int { return cmp.Compare(x.PURL, y.PURL) })
	ids := map[string]bool{}
	for i := range b.Components {
		c := &b.Components[i]
		if c.Name == "" || c.Version == "" && c.Kind != Image {
			return nil, fmt.Errorf("%s package %q version %q: want a name and a version", c.Kind, c.Name, c.Version)
		}
		if i > 0 && b.Components[i-1].PURL == c.PURL {
			return nil, fmt.Errorf("%s package %s %s is listed twice", c.Kind, c.Name, c.Version)
		}
		c.ID = idString(string(c.Kind) + "-" + c.Name + "-" + c.Version)
		if ids[c.ID] {
			sum := sha256.Sum256([]byte(c.PURL))
			c.ID += "-" + hex.EncodeToString(sum[:4])
		}
		ids[c.ID] = true
	}
	return b, nil
}

func condaComponent(r *repodata.Record) Component {
	typ := "tar.bz2"
	if strings.HasSuffix(r.Filename, ".conda") || strings.HasSuffix(r.URL, ".conda") {
		typ = "conda"
	}
	subdir := r.Subdir
	if u := RedactURL(r.URL); subdir == "" && u != "" {
		subdir = path.Base(path.Dir(u)) // <channel>/<subdir>/<filename>
	}
	return Component{
		Kind: Conda, Name: r.Name, Version: r.Version,
		PURL: purl("conda", "", r.Name, r.Version, map[string]string{
			"build": r.Build, "channel": channelName(r.Channel), "subdir": subdir, "type": typ,
		}),
		DownloadURL: RedactURL(r.URL), SHA256: r.SHA256, MD5: r.MD5,
		License: NormalizeLicense(r.License),
	}
}

// channelName is a conda channel as the purl's channel qualifier has it:
// its short name under the default alias ("conda-forge") or Anaconda's
// defaults ("main"), else its (redacted) URL.
func channelName(canonical string) string {
	u := RedactURL(canonical)
	if rest, ok := strings.CutPrefix(u, channel.DefaultsBase+"/"); ok {
		return rest
	}
	return (*channel.Config)(nil).DisplayName(u)
}

// condaDepends are the purls of r's dependencies that the lock holds
// (virtual packages and constraints on absent packages have none).
func condaDepends(r *repodata.Record, byName map[string]string) ([]string, error) {
	var out []string
	for _, d := range r.Depends {
		ms, err := matchspec.Parse(d)
		if err != nil {
			return nil, fmt.Errorf("conda package %s: dependency %q: %w", r, d, err)
		}
		if p, ok := byName[ms.Name]; ok && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out, nil
}

// imageComponent is the base image: an oci purl whose version is the
// digest when known, with the repository and tag as qualifiers.
func imageComponent(ref, digest string) (Component, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return Component{}, fmt.Errorf("base image %q: %w", ref, err)
	}
	repo := named.Name()
	tag := ""
	if t, ok := named.(reference.Tagged); ok {
		tag = t.Tag()
	}
	name := strings.ToLower(path.Base(reference.Path(named)))
	return Component{
		Kind: Image, Name: name, Version: digest,
		PURL:    purl("oci", "", name, digest, map[string]string{"repository_url": repo, "tag": tag}),
		License: NormalizeLicense(""),
	}, nil
}

// idString keeps the characters SPDX identifiers allow (letters, digits,
// "." and "-"), the others as "-".
func idString(s string) string {
	return strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return '-'
	}, s)
}

// digest is sha256 over the BOM's content: what names the documents
// (SPDX namespace, CycloneDX serial number) instead of a random value.
func (b *BOM) digest() string {
	data, err := json.Marshal(b)
	if err != nil {
		panic(err) // a BOM is strings, a time and slices of them
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// Licenses groups the components by licence expression (NoAssertion for
// those without one), each group sorted as the components are.
func (b *BOM) Licenses() map[string][]Component {
	out := map[string][]Component{}
	for _, c := range b.Components {
		out[c.License.Expression] = append(out[c.License.Expression], c)
	}
	return out
}

// WithLicenses is pkgs with the licence each declares in its channel's
// repodata (from: records read from the channels the lock was made from),
// which the conda-lock v1 format does not keep: a record of from with the
// same sha256 (md5 when either lacks one) gives its license. Records
// that already have one, or that from does not hold, are kept as they
// are; pkgs is not changed.
func WithLicenses(pkgs []*repodata.Record, from [][]repodata.Record) []*repodata.Record {
	bySHA, byMD5 := map[string]string{}, map[string]string{}
	for _, recs := range from {
		for _, r := range recs {
			if r.License == "" {
				continue
			}
			if r.SHA256 != "" {
				bySHA[r.SHA256] = r.License
			}
			if r.MD5 != "" {
				byMD5[r.MD5] = r.License
			}
		}
	}
	out := make([]*repodata.Record, len(pkgs))
	for i, p := range pkgs {
		out[i] = p
		if p.License != "" {
			continue
		}
		l, ok := bySHA[p.SHA256] // the maps have no "" key
		if !ok {
			l, ok = byMD5[p.MD5]
		}
		if ok {
			r := *p
			r.License = l
			out[i] = &r
		}
	}
	return out
}

// PipDepends are the dependency names of the pip packages of one platform
// of a lock, by package name.
func PipDepends(lk *lock.Lock, subdir string) map[string][]string {
	out := map[string][]string{}
	for _, p := range lk.ForPlatform(subdir) {
		if p.Manager == lock.Pip {
			out[p.Name] = slices.Sorted(maps.Keys(p.Dependencies))
		}
	}
	return out
}
