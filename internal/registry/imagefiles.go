package registry

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	orasregistry "oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/envkit/envkit/internal/imagemeta"
)

// maxImageFileBytes bounds one file ReadImageFiles keeps in memory: a
// conda-meta record, a METADATA.
const maxImageFileBytes = 512 << 20

// ErrEnvironment is returned for a reference to an envkit environment
// (definition and lock, envkit push) where an image is read.
var ErrEnvironment = errors.New("an envkit environment, not an image")

// resolvedImage is one platform's manifest and config of an image.
type resolvedImage struct {
	repo     *remote.Repository
	top      ocispec.Descriptor // the tag's: an index for a multi-platform image
	desc     ocispec.Descriptor // the platform's manifest
	manifest ocispec.Manifest
	config   ocispec.Image
}

// resolveImage reads ref's (HOST/PATH:TAG or @DIGEST) manifest for
// platform ("" for a single-platform image or an index of one) and its
// config; a tag that does not exist is ErrImageNotFound.
func (c *Client) resolveImage(ctx context.Context, ref, platform string) (*resolvedImage, error) {
	parsed, err := orasregistry.ParseReference(ref)
	if err != nil {
		return nil, fmt.Errorf("image %q: %w", ref, err)
	}
	r := c.repository(parsed)
	r.ManifestMediaTypes = imageManifestTypes
	top, err := r.Resolve(ctx, parsed.Reference)
	if err != nil {
		if isNotFound(err) {
			return nil, fmt.Errorf("%s: %w", ref, ErrImageNotFound)
		}
		return nil, explain(ref, err)
	}
	img := &resolvedImage{repo: r, top: top, desc: top}
	if isIndex(top.MediaType) {
		var index ocispec.Index
		if err := fetchJSON(ctx, r, top, &index); err != nil {
			return nil, fmt.Errorf("%s: index: %w", ref, err)
		}
		if img.desc, err = pickPlatform(index, platform); err != nil {
			return nil, fmt.Errorf("%s: %w", ref, err)
		}
	}
	if err := fetchJSON(ctx, r, img.desc, &img.manifest); err != nil {
		return nil, fmt.Errorf("%s: manifest: %w", ref, err)
	}
	if img.manifest.ArtifactType == ArtifactType {
		return nil, fmt.Errorf("%s is %w", ref, ErrEnvironment)
	}
	if err := fetchJSON(ctx, r, img.manifest.Config, &img.config); err != nil {
		return nil, fmt.Errorf("%s: config: %w", ref, err)
	}
	return img, nil
}

// ImageFiles is what ReadImageFiles read of an image built by envkit.
type ImageFiles struct {
	// Digest is the platform's manifest digest.
	Digest string
	Config ocispec.Image
	// Files maps a path (relative to /, cleaned) to its content, as the
	// last envkit layer that holds it leaves it; SHA256 maps the paths
	// kept by digest only (hex).
	Files  map[string][]byte
	SHA256 map[string]string
	// CreatedBy are the history entries of envkit's layers, by comment
	// (imagemeta: CondaPackageLayer, PipPackageLayer, …), in layer order.
	CreatedBy map[string][]string
}

// envkitLayers are the history comments of the layers envkit adds to its
// base: only these are read, so that a base's own conda or Python
// installation is not taken for the environment's.
var envkitLayers = map[string]bool{
	imagemeta.CondaPackageLayer: true, imagemeta.CondaEnvironment: true,
	imagemeta.PipPackageLayer: true, imagemeta.SparkLayer: true,
}

// ReadImageFiles downloads the layers envkit made in the image ref for
// platform (their history comments say which: imagemeta) and keeps the
// regular files for which want(layer comment, path) holds: their content,
// or with digestOnly their sha256, read as they stream by (a Spark jar
// may be hundreds of megabytes). An image whose
// history does not match its layers, or that has no envkit layer, is not
// one envkit built: an error.
func (c *Client) ReadImageFiles(ctx context.Context, ref, platform string, want func(comment, name string) (keep, digestOnly bool)) (*ImageFiles, error) {
	img, err := c.resolveImage(ctx, ref, platform)
	if err != nil {
		return nil, err
	}
	var history []ocispec.History
	for _, h := range img.config.History {
		if !h.EmptyLayer {
			history = append(history, h)
		}
	}
	if len(history) != len(img.manifest.Layers) {
		return nil, fmt.Errorf("%s: %d layers but %d history entries that made one: not an image envkit built", ref, len(img.manifest.Layers), len(history))
	}
	out := &ImageFiles{Digest: img.desc.Digest.String(), Config: img.config, Files: map[string][]byte{}, SHA256: map[string]string{}, CreatedBy: map[string][]string{}}
	for i, d := range img.manifest.Layers {
		h := history[i]
		if !envkitLayers[h.Comment] {
			continue
		}
		out.CreatedBy[h.Comment] = append(out.CreatedBy[h.Comment], h.CreatedBy)
		if err := readLayerFiles(ctx, img.repo, d, func(name string) (bool, bool) { return want(h.Comment, name) }, out); err != nil {
			return nil, fmt.Errorf("%s: layer %s: %w", ref, d.Digest, err)
		}
	}
	if len(out.CreatedBy) == 0 {
		return nil, fmt.Errorf("%s: no layer made by envkit (history comments %q, …): not an image envkit built", ref, imagemeta.CondaPackageLayer)
	}
	return out, nil
}

// readLayerFiles reads the regular files of a layer that want keeps into
// out (replacing an earlier layer's) and removes those its whiteouts
// delete.
func readLayerFiles(ctx context.Context, r *remote.Repository, d ocispec.Descriptor, want func(string) (keep, digestOnly bool), out *ImageFiles) error {
	return readLayer(ctx, r, d, func(stream io.Reader) error {
		tr := tar.NewReader(stream)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			name := strings.TrimPrefix(path.Clean("/"+h.Name), "/")
			dir, file := path.Split(name)
			if deleted, ok := strings.CutPrefix(file, ".wh."); ok {
				delete(out.Files, dir+deleted)
				delete(out.SHA256, dir+deleted)
				continue
			}
			if h.Typeflag != tar.TypeReg {
				continue
			}
			keep, digestOnly := want(name)
			switch {
			case !keep:
				continue
			case digestOnly:
				sum := sha256.New()
				if _, err := io.Copy(sum, tr); err != nil {
					return fmt.Errorf("%s: %w", name, err)
				}
				delete(out.Files, name)
				out.SHA256[name] = hex.EncodeToString(sum.Sum(nil))
				continue
			}
			if h.Size > maxImageFileBytes {
				return fmt.Errorf("%s is %d bytes, over %d", name, h.Size, maxImageFileBytes)
			}
			data, err := io.ReadAll(tr)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			delete(out.SHA256, name)
			out.Files[name] = data
		}
	})
}

// readLayer hands the layer d's decompressed tar stream to read, then
// reads what read left and checks the layer's size and digest.
func readLayer(ctx context.Context, r *remote.Repository, d ocispec.Descriptor, read func(io.Reader) error) error {
	rc, err := r.Fetch(ctx, d)
	if err != nil {
		return err
	}
	defer rc.Close()
	verified := content.NewVerifyReader(rc, d)
	stream, err := decompress(d.MediaType, verified)
	if err != nil {
		return err
	}
	defer stream.Close()
	if err := read(stream); err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, stream); err != nil {
		return err
	}
	return verified.Verify()
}
