package registry

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	"github.com/distribution/reference"
	"github.com/klauspost/compress/zstd"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	orasregistry "oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/envkit/envkit/internal/imagemeta"
)

// ErrImageNotFound is returned by InspectImage when the tag does not exist.
var ErrImageNotFound = errors.New("image not found")

// Image is what inspect shows of a built image for one platform.
type Image struct {
	Ref string `json:"ref"`
	// Digest is the tag's digest: the index for a multi-platform image.
	Digest string `json:"digest"`
	// ManifestDigest is the platform's image manifest.
	ManifestDigest string            `json:"manifest_digest"`
	Platform       string            `json:"platform"`
	Labels         map[string]string `json:"labels,omitempty"`
	Layers         []ImageLayer      `json:"layers"`
}

// ImageLayer is one layer with the conda packages it holds.
type ImageLayer struct {
	Digest    string `json:"digest"`
	MediaType string `json:"media_type"`
	Size      int64  `json:"size"`
	CreatedBy string `json:"created_by,omitempty"`
	// Packages are name-version-build: from the layer's history, or with
	// readLayers from the conda-meta records the layer's files hold (a
	// record rewritten by a later layer stays with the first).
	Packages []string `json:"packages,omitempty"`
}

// imageManifestTypes are the manifest media types inspect follows.
var imageManifestTypes = []string{
	ocispec.MediaTypeImageIndex, ocispec.MediaTypeImageManifest,
	"application/vnd.docker.distribution.manifest.list.v2+json",
	"application/vnd.docker.distribution.manifest.v2+json",
}

// ResolveDigest returns the digest a registry gives for an image reference
// in Docker's short form ("debian:bookworm-slim"): the index digest for a
// multi-platform image. A reference pinned by digest needs no request.
// mirrors maps a registry ("docker.io") to the host that serves its
// images, as buildkitd's registry mirrors do.
func (c *Client) ResolveDigest(ctx context.Context, image string, mirrors map[string]string) (string, error) {
	named, err := reference.ParseDockerRef(image)
	if err != nil {
		return "", fmt.Errorf("image %q: %w", image, err)
	}
	if canonical, ok := named.(reference.Canonical); ok {
		return canonical.Digest().String(), nil
	}
	ref := orasReference(named, mirrors)
	r := c.repository(ref)
	r.ManifestMediaTypes = imageManifestTypes
	desc, err := r.Resolve(ctx, ref.Reference)
	if isNotFound(err) {
		return "", fmt.Errorf("%s: not found", named)
	}
	if err != nil {
		return "", explain(named.String(), err)
	}
	return desc.Digest.String(), nil
}

// orasReference turns a normalised Docker reference into oras's, on its
// registry's mirror if it has one, else with Docker Hub's API host.
func orasReference(named reference.Named, mirrors map[string]string) orasregistry.Reference {
	ref := orasregistry.Reference{Registry: reference.Domain(named), Repository: reference.Path(named), Reference: "latest"}
	if mirror, ok := mirrors[ref.Registry]; ok {
		ref.Registry = mirror
	} else if ref.Registry == "docker.io" {
		ref.Registry = "registry-1.docker.io"
	}
	if tagged, ok := named.(reference.Tagged); ok {
		ref.Reference = tagged.Tag()
	}
	return ref
}

// InspectImage reads the image ref (HOST/PATH:TAG) for platform ("os/arch"
// or "os/arch/variant"): its layers, their sizes and the conda packages
// each holds. With readLayers every layer is downloaded and its conda-meta
// records read, which shows what the image holds rather than what its
// history says.
func (c *Client) InspectImage(ctx context.Context, ref, platform string, readLayers bool) (*Image, error) {
	resolved, err := c.resolveImage(ctx, ref, platform)
	if err != nil {
		return nil, err
	}
	r, m, cfg := resolved.repo, resolved.manifest, resolved.config
	img := &Image{Ref: ref, Digest: resolved.top.Digest.String(), ManifestDigest: resolved.desc.Digest.String(), Platform: platform}
	img.Labels = cfg.Config.Labels
	if img.Platform == "" {
		img.Platform = path.Join(cfg.OS, cfg.Architecture, cfg.Variant)
	}
	// History entries that made a layer match the layers in order.
	var layerHistory []ocispec.History
	for _, h := range cfg.History {
		if !h.EmptyLayer {
			layerHistory = append(layerHistory, h)
		}
	}
	matched := len(layerHistory) == len(m.Layers)
	// A package belongs to the layer that first brings its record: later
	// layers may rewrite the record (the finalize step adds .pyc paths).
	seen := map[string]bool{}
	for i, d := range m.Layers {
		l := ImageLayer{Digest: d.Digest.String(), MediaType: d.MediaType, Size: d.Size}
		if matched {
			h := layerHistory[i]
			l.CreatedBy = h.CreatedBy
			if h.Comment == imagemeta.CondaPackageLayer {
				l.Packages = strings.Fields(strings.TrimPrefix(h.CreatedBy, "envkit link "))
			}
		}
		if readLayers {
			pkgs, err := layerPackages(ctx, r, d)
			if err != nil {
				return nil, fmt.Errorf("%s: layer %s: %w", ref, d.Digest, err)
			}
			l.Packages = nil
			for _, p := range pkgs {
				if !seen[p] {
					seen[p] = true
					l.Packages = append(l.Packages, p)
				}
			}
		}
		img.Layers = append(img.Layers, l)
	}
	return img, nil
}

func isIndex(mediaType string) bool {
	return mediaType == ocispec.MediaTypeImageIndex || mediaType == "application/vnd.docker.distribution.manifest.list.v2+json"
}

func fetchJSON(ctx context.Context, r *remote.Repository, d ocispec.Descriptor, v any) error {
	if d.Size > maxManifestBytes {
		return fmt.Errorf("%s is %d bytes, over %d", d.Digest, d.Size, maxManifestBytes)
	}
	data, err := content.FetchAll(ctx, r, d)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

// pickPlatform finds the manifest for platform in an index; "" takes the
// only manifest there is.
func pickPlatform(index ocispec.Index, platform string) (ocispec.Descriptor, error) {
	var names []string
	for _, d := range index.Manifests {
		if d.Platform == nil {
			continue
		}
		p := path.Join(d.Platform.OS, d.Platform.Architecture, d.Platform.Variant)
		if p == platform {
			return d, nil
		}
		names = append(names, p)
	}
	if platform == "" && len(index.Manifests) == 1 {
		return index.Manifests[0], nil
	}
	return ocispec.Descriptor{}, fmt.Errorf("no manifest for platform %q (the index has: %s)", platform, strings.Join(names, ", "))
}

// layerPackages reads a layer tar and returns the conda packages whose
// conda-meta record it holds, as name-version-build, sorted.
func layerPackages(ctx context.Context, r *remote.Repository, d ocispec.Descriptor) ([]string, error) {
	var pkgs []string
	err := readLayer(ctx, r, d, func(stream io.Reader) error {
		var err error
		pkgs, err = condaMetaRecords(stream)
		return err
	})
	return pkgs, err
}

// decompress opens a layer stream by its media type.
func decompress(mediaType string, r io.Reader) (io.ReadCloser, error) {
	switch {
	case strings.HasSuffix(mediaType, "+gzip") || strings.HasSuffix(mediaType, ".gzip"):
		return gzip.NewReader(r)
	case strings.HasSuffix(mediaType, "+zstd"):
		dec, err := zstd.NewReader(r)
		if err != nil {
			return nil, err
		}
		return dec.IOReadCloser(), nil
	case strings.HasSuffix(mediaType, ".tar") || strings.HasSuffix(mediaType, "tar"):
		return io.NopCloser(r), nil
	}
	return nil, fmt.Errorf("layer media type %q is not a tar layer envkit reads", mediaType)
}

// condaMetaRecords lists the <prefix>/conda-meta/*.json records in a tar.
func condaMetaRecords(r io.Reader) ([]string, error) {
	tr := tar.NewReader(r)
	var out []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		dir, file := path.Split(strings.TrimPrefix(path.Clean("/"+h.Name), "/"))
		if h.Typeflag != tar.TypeReg || path.Base(dir) != "conda-meta" || !strings.HasSuffix(file, ".json") || strings.HasPrefix(file, ".wh.") {
			continue
		}
		var rec struct{ Name, Version, Build string }
		if err := json.NewDecoder(io.LimitReader(tr, 64<<20)).Decode(&rec); err != nil {
			return nil, fmt.Errorf("%s: %w", h.Name, err)
		}
		if rec.Name == "" || rec.Version == "" {
			return nil, fmt.Errorf("%s: a conda-meta record without name or version", h.Name)
		}
		out = append(out, rec.Name+"-"+rec.Version+"-"+rec.Build)
	}
	slices.Sort(out)
	return out, nil
}
