// Package registry keeps environment definitions as versioned OCI artifacts
// in any OCI registry (docs/registry.md): one repository per environment
// (REPO/NAME), one integer tag per version plus "latest", and in each
// version's manifest the definition file, its lock and the files it
// references, each a layer titled with its path.
package registry

import (
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ArtifactType marks an envkit environment's manifest.
const ArtifactType = "application/vnd.envkit.environment.v1"

// Layer media types, one per role a file plays in the environment.
const (
	MediaTypeDefinition = "application/vnd.envkit.environment.definition.v1"
	MediaTypeLock       = "application/vnd.envkit.environment.lock.v1+yaml"
	MediaTypeFile       = "application/vnd.envkit.environment.file.v1"
)

// Manifest annotations. The definition hash decides whether a push is a
// new version; the rest is what list and versions show.
const (
	AnnotationName        = "dev.envkit.environment.name"
	AnnotationVersion     = "dev.envkit.environment.version"
	AnnotationDescription = "dev.envkit.environment.description"
	AnnotationTags        = "dev.envkit.environment.tags" // JSON object
	AnnotationHash        = "dev.envkit.environment.hash"
)

// LatestTag follows the highest version.
const LatestTag = "latest"

// Role is what a file is to the environment.
type Role string

const (
	RoleDefinition Role = "definition"
	RoleLock       Role = "lock"
	RoleFile       Role = "file"
)

var roleMediaType = map[Role]string{
	RoleDefinition: MediaTypeDefinition,
	RoleLock:       MediaTypeLock,
	RoleFile:       MediaTypeFile,
}

// File is one file of an environment. Path is slash-separated and relative
// to the definition's directory; the definition itself is a bare file name.
type File struct {
	Path string
	Role Role
	Data []byte
}

// Environment is what one version holds.
type Environment struct {
	Name        string
	Description string
	Tags        map[string]string
	// Hash is the definition hash (hash.Of).
	Hash string
	// Files: exactly one RoleDefinition, at most one RoleLock.
	Files []File
}

// Definition returns the definition file.
func (e *Environment) Definition() File {
	for _, f := range e.Files {
		if f.Role == RoleDefinition {
			return f
		}
	}
	return File{}
}

// Version describes one pushed version, read from its manifest.
type Version struct {
	Number      int
	Name        string
	Description string
	Tags        map[string]string
	Hash        string
	// Pushed is the manifest's org.opencontainers.image.created; zero when
	// the manifest carries none.
	Pushed time.Time
	// Digest is the manifest's digest.
	Digest string
}

// validate checks the environment before anything is pushed.
func (e *Environment) validate() error {
	if e.Hash == "" {
		return fmt.Errorf("environment %q has no definition hash", e.Name)
	}
	defs, locks := 0, 0
	seen := map[string]bool{}
	for _, f := range e.Files {
		if err := checkPath(f.Path); err != nil {
			return err
		}
		if seen[f.Path] {
			return fmt.Errorf("file %q is listed twice", f.Path)
		}
		seen[f.Path] = true
		switch f.Role {
		case RoleDefinition:
			defs++
		case RoleLock:
			locks++
		case RoleFile:
		default:
			return fmt.Errorf("file %q: unknown role %q", f.Path, f.Role)
		}
	}
	if defs != 1 || locks > 1 {
		return fmt.Errorf("an environment holds one definition and at most one lock, got %d and %d", defs, locks)
	}
	return nil
}

// checkPath refuses paths that would write outside the pull directory.
func checkPath(p string) error {
	if p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, "\\") || path.Clean(p) != p || p == "." || p == ".." || strings.HasPrefix(p, "../") {
		return fmt.Errorf("file path %q must be relative, clean and inside the environment's directory", p)
	}
	return nil
}

// sortedFiles orders the layers: definition, lock, then the other files by
// path, so the same environment always packs to the same layer list.
func sortedFiles(files []File) []File {
	rank := map[Role]int{RoleDefinition: 0, RoleLock: 1, RoleFile: 2}
	out := slices.Clone(files)
	slices.SortStableFunc(out, func(a, b File) int {
		if d := rank[a.Role] - rank[b.Role]; d != 0 {
			return d
		}
		return strings.Compare(a.Path, b.Path)
	})
	return out
}

// manifestAnnotations are the annotations of version n pushed at pushed.
func (e *Environment) manifestAnnotations(n int, pushed time.Time) (map[string]string, error) {
	a := map[string]string{
		AnnotationName:            e.Name,
		AnnotationVersion:         strconv.Itoa(n),
		AnnotationHash:            e.Hash,
		ocispec.AnnotationCreated: pushed.UTC().Format(time.RFC3339),
	}
	if e.Description != "" {
		a[AnnotationDescription] = e.Description
	}
	if len(e.Tags) > 0 {
		tags, err := json.Marshal(e.Tags) // map keys are sorted: deterministic
		if err != nil {
			return nil, err
		}
		a[AnnotationTags] = string(tags)
	}
	return a, nil
}

// ErrNotEnvironment is returned for a manifest that is not an envkit
// environment (an image, another tool's artifact, an index).
type ErrNotEnvironment struct {
	Ref  string
	What string
}

func (e *ErrNotEnvironment) Error() string {
	return fmt.Sprintf("%s is not an envkit environment (%s; want artifactType %s)", e.Ref, e.What, ArtifactType)
}

// parseManifest reads and checks an environment manifest.
func parseManifest(ref, mediaType string, data []byte) (*ocispec.Manifest, error) {
	if mediaType != ocispec.MediaTypeImageManifest {
		return nil, &ErrNotEnvironment{ref, "media type " + mediaType}
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: manifest: %v", ref, err)
	}
	if m.ArtifactType != ArtifactType {
		what := "artifactType " + m.ArtifactType
		if m.ArtifactType == "" {
			what = "config media type " + m.Config.MediaType
		}
		return nil, &ErrNotEnvironment{ref, what}
	}
	return &m, nil
}

// versionOf reads a version's description from its manifest.
func versionOf(ref string, m *ocispec.Manifest, digest string) (Version, error) {
	a := m.Annotations
	v := Version{Name: a[AnnotationName], Description: a[AnnotationDescription], Hash: a[AnnotationHash], Digest: digest}
	n, err := strconv.Atoi(a[AnnotationVersion])
	if err != nil || n < 1 {
		return Version{}, fmt.Errorf("%s: annotation %s is %q, not a version number", ref, AnnotationVersion, a[AnnotationVersion])
	}
	v.Number = n
	if v.Hash == "" {
		return Version{}, fmt.Errorf("%s: manifest has no %s annotation", ref, AnnotationHash)
	}
	if t := a[AnnotationTags]; t != "" {
		if err := json.Unmarshal([]byte(t), &v.Tags); err != nil {
			return Version{}, fmt.Errorf("%s: annotation %s: %v", ref, AnnotationTags, err)
		}
	}
	if c := a[ocispec.AnnotationCreated]; c != "" {
		if t, err := time.Parse(time.RFC3339, c); err == nil {
			v.Pushed = t
		}
	}
	return v, nil
}

// layerFile maps a layer descriptor to the file it holds (without data).
func layerFile(ref string, d ocispec.Descriptor) (File, error) {
	var role Role
	for r, mt := range roleMediaType {
		if mt == d.MediaType {
			role = r
		}
	}
	if role == "" {
		return File{}, fmt.Errorf("%s: layer %s has media type %q, not one of envkit's", ref, d.Digest, d.MediaType)
	}
	p := d.Annotations[ocispec.AnnotationTitle]
	if err := checkPath(p); err != nil {
		return File{}, fmt.Errorf("%s: layer %s: %v", ref, d.Digest, err)
	}
	return File{Path: p, Role: role}, nil
}
