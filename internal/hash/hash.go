// Package hash computes the definition hash: sha256 over a canonical,
// versioned encoding of everything in a definition that changes the built
// image, and nothing else (docs/hash.md).
package hash

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/distribution/reference"

	"github.com/envkit/envkit/internal/credentials"
	"github.com/envkit/envkit/internal/spec"
)

// Version is the encoding version. Change it with any change to what the
// document holds or how, so old and new hashes never collide.
const Version = 1

// Of returns the definition hash, "sha256:<64 hex>".
func Of(def *spec.Definition) (string, error) {
	doc, err := Document(def)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(doc)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// document is the canonical encoding. Field order is fixed by the struct;
// lists that are sets are sorted, lists whose order matters are kept.
type document struct {
	Version      int               `json:"envkit-hash"`
	Base         base              `json:"base"`
	Steps        []string          `json:"steps"`
	ContextFiles []spec.FileDigest `json:"context_files"`
	Conda        *conda            `json:"conda"`
	Pip          []string          `json:"pip"`
	Env          [][2]string       `json:"env"`
	Python       python            `json:"python"`
	Prefix       string            `json:"prefix"`
	Spark        *spark            `json:"spark"`
	Platforms    []string          `json:"platforms"`
}

type base struct {
	Image      string `json:"image,omitempty"`
	Dockerfile string `json:"dockerfile,omitempty"`
}

type conda struct {
	Channels     []string    `json:"channels"`
	Dependencies []string    `json:"dependencies"`
	Pip          []string    `json:"pip"`
	Variables    [][2]string `json:"variables"`
}

type python struct {
	UserManaged bool   `json:"user_managed"`
	Interpreter string `json:"interpreter,omitempty"`
}

type spark struct {
	Repositories []string `json:"repositories"`
	Packages     []string `json:"packages"`
	Precache     bool     `json:"precache"`
}

// Document returns the canonical encoding the hash is taken over: compact
// JSON with a fixed field order.
func Document(def *spec.Definition) ([]byte, error) {
	b, err := baseOf(def.Base)
	if err != nil {
		return nil, err
	}
	files := append([]spec.FileDigest{}, def.Base.ContextFiles...)
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	doc := document{
		Version:      Version,
		Base:         b,
		Steps:        []string{},
		ContextFiles: files,
		Pip:          sortedPip(def.Pip),
		Env:          sortedVars(def.Env),
		Prefix:       def.EffectivePrefix(),
		Platforms:    sortedCopy(def.Platforms),
	}
	for _, st := range def.Steps {
		doc.Steps = append(doc.Steps, strings.TrimSpace(st.Instruction))
	}
	if c := def.Conda; c != nil {
		doc.Conda = &conda{
			Channels:     withoutCredentials(c.ChannelNames()),
			Dependencies: sortedSpecs(c.Dependencies),
			Pip:          sortedPip(c.Pip),
			Variables:    sortedVars(c.Variables),
		}
	}
	if def.Python.UserManaged {
		// The interpreter only matters when the image provides python.
		doc.Python = python{UserManaged: true, Interpreter: def.Python.Interpreter}
		if doc.Python.Interpreter == "" {
			doc.Python.Interpreter = "python"
		}
	}
	if s := def.Spark; s != nil && len(s.Repositories)+len(s.Packages) > 0 {
		sp := &spark{Repositories: withoutCredentials(s.Repositories), Packages: []string{}, Precache: s.Precache}
		for _, p := range s.Packages {
			sp.Packages = append(sp.Packages, p.Group+":"+p.Artifact+":"+p.Version)
		}
		sort.Strings(sp.Packages)
		doc.Spark = sp
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep "&&" in Dockerfile text readable
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// baseOf normalises the base image reference (docker.io/library/ and
// :latest made explicit) so "debian" and "docker.io/library/debian:latest"
// hash the same.
func baseOf(b spec.Base) (base, error) {
	switch {
	case b.Image != "":
		named, err := reference.ParseNormalizedNamed(b.Image)
		if err != nil {
			return base{}, fmt.Errorf("base image %q: %w", b.Image, err)
		}
		return base{Image: reference.TagNameOnly(named).String()}, nil
	case b.Dockerfile != "":
		return base{Dockerfile: b.Dockerfile}, nil
	}
	return base{}, errors.New("the definition has no base image: set one (for conda and requirements files, " + spec.BaseImageEnv + ")")
}

func sortedSpecs(reqs []spec.Requirement) []string {
	out := make([]string, 0, len(reqs))
	for _, r := range reqs {
		out = append(out, spec.NormalizeSpec(r.Spec))
	}
	sort.Strings(out)
	return out
}

// sortedPip is sortedSpecs over the pip lines' keys: a constraint read from
// a -c file and a local wheel's content enter the hash, never their paths.
func sortedPip(reqs []spec.Requirement) []string {
	keyed := make([]spec.Requirement, len(reqs))
	for i, r := range reqs {
		keyed[i] = spec.Requirement{Spec: spec.PipKey(r)}
		if strings.HasPrefix(keyed[i].Spec, "-") { // --index-url URL and the like
			keyed[i].Spec = credentials.StripText(keyed[i].Spec)
		}
	}
	return sortedSpecs(keyed)
}

// withoutCredentials is each item without a user:token or /t/<token>/
// part (credentials.StripText), so that a new token does not change the
// hash, as it does not change a lock's content_hash.
func withoutCredentials(items []string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = credentials.StripText(it)
	}
	return out
}

func sortedVars(vars []spec.EnvVar) [][2]string {
	out := make([][2]string, 0, len(vars))
	for _, v := range vars {
		out = append(out, [2]string{v.Name, v.Value})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

func sortedCopy(s []string) []string {
	out := append([]string{}, s...)
	sort.Strings(out)
	return out
}
