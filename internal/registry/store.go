package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	orasregistry "oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"
)

// maxManifestBytes bounds what is read of a manifest: an environment's
// manifest is a few kilobytes.
const maxManifestBytes = 4 << 20

// nameComponent is the distribution spec's repository path component.
var nameComponent = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$`)

// RepoName turns an environment name into its repository path component:
// lower case (registries refuse upper case), otherwise unchanged.
func RepoName(name string) (string, error) {
	n := strings.ToLower(name)
	if !nameComponent.MatchString(n) {
		return "", fmt.Errorf("environment name %q cannot name a repository (lower-case letters, digits, and . _ - between them)", name)
	}
	return n, nil
}

// PushResult says what a push did.
type PushResult struct {
	// Ref is REPO/NAME:VERSION of the version holding the definition.
	Ref     string
	Version Version
	// Created is false when an existing version already held the same
	// definition hash and nothing was pushed.
	Created bool
}

// Push stores env as a version of repo/NAME, NAME being RepoName(env.Name).
// With version 0 the version is the next integer, unless an existing
// version has the same definition hash: then that version is returned and
// nothing is pushed. An explicit version that exists must hold the same
// hash. "latest" moves only to a higher version. pushed is recorded as the
// manifest's creation date.
func (c *Client) Push(ctx context.Context, repo string, env *Environment, version int, pushed time.Time) (PushResult, error) {
	if err := env.validate(); err != nil {
		return PushResult{}, err
	}
	base, err := parseRepo(repo)
	if err != nil {
		return PushResult{}, err
	}
	name, err := RepoName(env.Name)
	if err != nil {
		return PushResult{}, err
	}
	ref := base
	ref.Repository = base.Repository + "/" + name
	r := c.repository(ref)
	existing, err := c.versions(ctx, r)
	if err != nil && !isNotFound(err) {
		return PushResult{}, err
	}
	highest := 0
	for _, v := range existing {
		highest = max(highest, v.Number)
	}
	result := func(v Version, created bool) PushResult {
		out := ref
		out.Reference = strconv.Itoa(v.Number)
		return PushResult{Ref: out.String(), Version: v, Created: created}
	}
	switch {
	case version < 0:
		return PushResult{}, fmt.Errorf("version %d: versions are positive integers", version)
	case version == 0:
		for _, v := range existing {
			if v.Hash == env.Hash {
				return result(v, false), nil
			}
		}
		version = highest + 1
	default:
		for _, v := range existing {
			if v.Number != version {
				continue
			}
			if v.Hash != env.Hash {
				return PushResult{}, fmt.Errorf("%s:%d already holds a different definition (%s, this one is %s): versions are never overwritten; push without --version to get the next one", ref, version, v.Hash, env.Hash)
			}
			return result(v, false), nil
		}
	}

	files := sortedFiles(env.Files)
	layers := make([]ocispec.Descriptor, len(files))
	for i, f := range files {
		d := content.NewDescriptorFromBytes(roleMediaType[f.Role], f.Data)
		d.Annotations = map[string]string{ocispec.AnnotationTitle: f.Path}
		if err := pushBlob(ctx, r, d, f.Data); err != nil {
			return PushResult{}, explain(ref.String(), err)
		}
		layers[i] = d
	}
	annotations, err := env.manifestAnnotations(version, pushed)
	if err != nil {
		return PushResult{}, err
	}
	desc, err := oras.PackManifest(ctx, r, oras.PackManifestVersion1_1, ArtifactType, oras.PackManifestOptions{
		Layers:              layers,
		ManifestAnnotations: annotations,
	})
	if err != nil {
		return PushResult{}, explain(ref.String(), err)
	}
	tags := []string{strconv.Itoa(version)}
	if version > highest {
		tags = append(tags, LatestTag)
	}
	for _, tag := range tags {
		if err := r.Tag(ctx, desc, tag); err != nil {
			return PushResult{}, explain(ref.String()+":"+tag, err)
		}
	}
	v := Version{Number: version, Name: env.Name, Description: env.Description, Tags: env.Tags, Hash: env.Hash, Pushed: pushed.UTC().Truncate(time.Second), Digest: desc.Digest.String()}
	return result(v, true), nil
}

// pushBlob uploads a blob the repository does not hold yet.
func pushBlob(ctx context.Context, r *remote.Repository, d ocispec.Descriptor, data []byte) error {
	ok, err := r.Exists(ctx, d)
	if err != nil || ok {
		return err
	}
	return r.Push(ctx, d, bytes.NewReader(data))
}

// Pull fetches the version ref names (HOST/PATH/NAME[:VERSION]) with all its
// files, each checked against its digest.
func (c *Client) Pull(ctx context.Context, ref string) (*Environment, Version, error) {
	parsed, err := ParseRef(ref)
	if err != nil {
		return nil, Version{}, err
	}
	r := c.repository(parsed)
	m, v, err := fetchManifest(ctx, r, parsed)
	if err != nil {
		return nil, Version{}, err
	}
	env := &Environment{Name: v.Name, Description: v.Description, Tags: v.Tags, Hash: v.Hash}
	for _, d := range m.Layers {
		f, err := layerFile(parsed.String(), d)
		if err != nil {
			return nil, Version{}, err
		}
		if f.Data, err = content.FetchAll(ctx, r, d); err != nil {
			return nil, Version{}, explain(fmt.Sprintf("%s: %s", parsed, f.Path), err)
		}
		env.Files = append(env.Files, f)
	}
	if err := env.validate(); err != nil {
		return nil, Version{}, fmt.Errorf("%s: %v", parsed, err)
	}
	return env, v, nil
}

// fetchManifest reads and checks the manifest ref names.
func fetchManifest(ctx context.Context, r *remote.Repository, ref orasregistry.Reference) (*ocispec.Manifest, Version, error) {
	desc, rc, err := r.FetchReference(ctx, ref.Reference)
	if err != nil {
		if isNotFound(err) {
			return nil, Version{}, fmt.Errorf("%s: not found (no such repository or version)", ref)
		}
		return nil, Version{}, explain(ref.String(), err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxManifestBytes+1))
	if err != nil {
		return nil, Version{}, explain(ref.String(), err)
	}
	if len(data) > maxManifestBytes {
		return nil, Version{}, fmt.Errorf("%s: manifest larger than %d bytes", ref, maxManifestBytes)
	}
	if desc.Digest.Validate() == nil && desc.Digest.Algorithm().FromBytes(data) != desc.Digest {
		return nil, Version{}, fmt.Errorf("%s: manifest does not match its digest %s", ref, desc.Digest)
	}
	m, err := parseManifest(ref.String(), desc.MediaType, data)
	if err != nil {
		return nil, Version{}, err
	}
	v, err := versionOf(ref.String(), m, desc.Digest.String())
	if err != nil {
		return nil, Version{}, err
	}
	return m, v, nil
}

// Versions lists the versions of HOST/PATH/NAME, oldest first.
func (c *Client) Versions(ctx context.Context, repoRef string) ([]Version, error) {
	ref, err := parseRepo(repoRef)
	if err != nil {
		return nil, err
	}
	vs, err := c.versions(ctx, c.repository(ref))
	if isNotFound(err) {
		return nil, fmt.Errorf("%s: no such repository", ref)
	}
	if err == nil && len(vs) == 0 {
		return nil, fmt.Errorf("%s holds no envkit environment versions", ref)
	}
	return vs, err
}

// versions reads every integer-tagged manifest of r, a few at a time. A
// missing repository is returned as a not-found error for the caller to
// judge.
func (c *Client) versions(ctx context.Context, r *remote.Repository) ([]Version, error) {
	numbers, err := versionTags(ctx, r)
	if err != nil {
		return nil, err
	}
	out := make([]Version, len(numbers))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(manifestFetchers)
	for i, n := range numbers {
		g.Go(func() error {
			ref := r.Reference
			ref.Reference = strconv.Itoa(n)
			_, v, err := fetchManifest(ctx, r, ref)
			if err != nil {
				return err
			}
			if v.Number != n {
				return fmt.Errorf("%s: manifest says version %d", ref, v.Number)
			}
			out[i] = v
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// manifestFetchers bounds the manifest requests in flight for one listing:
// enough to hide latency, few enough for any registry's rate limits.
const manifestFetchers = 4

// versionTags lists the integer tags of r, ascending.
func versionTags(ctx context.Context, r *remote.Repository) ([]int, error) {
	var numbers []int
	err := r.Tags(ctx, "", func(tags []string) error {
		for _, t := range tags {
			if n, err := parseVersionTag(t); err == nil {
				numbers = append(numbers, n)
			}
		}
		return nil
	})
	if err != nil {
		if isNotFound(err) {
			return nil, err
		}
		return nil, explain(r.Reference.String(), err)
	}
	slices.Sort(numbers)
	return numbers, nil
}

// parseVersionTag reads a version tag: a positive integer without sign or
// leading zeros, so each version has exactly one tag.
func parseVersionTag(t string) (int, error) {
	n, err := strconv.Atoi(t)
	if err != nil || n < 1 || strconv.Itoa(n) != t {
		return 0, fmt.Errorf("%q is not a version", t)
	}
	return n, nil
}

// Entry is one environment of a registry path, with its latest version.
type Entry struct {
	// Ref is HOST/PATH/NAME.
	Ref    string
	Latest Version
}

// List finds the environments directly under repo (HOST/PATH) through the
// registry's catalog, each with its highest version. Repositories that
// hold no envkit environment are left out.
func (c *Client) List(ctx context.Context, repo string) ([]Entry, error) {
	base, err := parseRepo(repo)
	if err != nil {
		return nil, err
	}
	reg, err := c.registry(base.Registry)
	if err != nil {
		return nil, err
	}
	prefix := base.Repository + "/"
	var names []string
	err = reg.Repositories(ctx, "", func(repos []string) error {
		for _, name := range repos {
			if rest, ok := strings.CutPrefix(name, prefix); ok && !strings.Contains(rest, "/") {
				names = append(names, name)
			}
		}
		return nil
	})
	if err != nil {
		return nil, explain(base.String()+": listing the registry's repositories", err)
	}
	slices.Sort(names)
	var out []Entry
	for _, name := range names {
		ref := base
		ref.Repository = name
		r := c.repository(ref)
		numbers, err := versionTags(ctx, r)
		if err != nil {
			return nil, err
		}
		if len(numbers) == 0 {
			continue
		}
		tagged := ref
		tagged.Reference = strconv.Itoa(numbers[len(numbers)-1])
		_, v, err := fetchManifest(ctx, r, tagged)
		var notEnv *ErrNotEnvironment
		if errors.As(err, &notEnv) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, Entry{Ref: ref.String(), Latest: v})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no envkit environments there", base)
	}
	return out, nil
}
