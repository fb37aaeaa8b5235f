// Package registrytest serves an in-process OCI registry on 127.0.0.1 for
// tests, optionally behind HTTP basic auth.
package registrytest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"

	ggcr "github.com/google/go-containerregistry/pkg/registry"
	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
)

// Start serves an empty registry for the test's duration and returns its
// host:port. With user set, every request needs basic auth user:password.
func Start(t testing.TB, user, password string) string {
	t.Helper()
	h := ggcr.New(ggcr.Logger(log.New(io.Discard, "", 0)))
	if user != "" {
		inner := h
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, p, ok := r.BasicAuth()
			if !ok || u != user || p != password {
				w.Header().Set("WWW-Authenticate", `Basic realm="envkit-test"`)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			inner.ServeHTTP(w, r)
		})
	}
	srv := httptest.NewServer(h)
	host := strings.TrimPrefix(srv.URL, "http://")
	logins.Store(host, auth.Credential{Username: user, Password: password})
	t.Cleanup(func() {
		srv.Close()
		logins.Delete(host)
	})
	return host
}

// logins holds each started registry's credentials, so PushImage can log
// in to a registry behind auth.
var logins sync.Map // host -> auth.Credential

// Layer is one layer of a test image: its files (path → content) and the
// history entry that made it.
type Layer struct {
	Files     map[string]string
	CreatedBy string
	Comment   string
}

// PushImage stores a linux/amd64 image made of layers (gzip tars) as
// host/repo:tag, with an empty-layer history entry first as real images
// have, and returns the manifest's digest.
func PushImage(t testing.TB, host, repo, tag string, labels map[string]string, layers ...Layer) string {
	t.Helper()
	ctx := context.Background()
	r, err := remote.NewRepository(host + "/" + repo)
	if err != nil {
		t.Fatal(err)
	}
	r.PlainHTTP = true
	if cred, ok := logins.Load(host); ok {
		r.Client = &auth.Client{Credential: auth.StaticCredential(host, cred.(auth.Credential))}
	}
	push := func(mediaType string, data []byte) ocispec.Descriptor {
		d := content.NewDescriptorFromBytes(mediaType, data)
		if err := r.Push(ctx, d, bytes.NewReader(data)); err != nil && !errors.Is(err, errdef.ErrAlreadyExists) {
			t.Fatal(err)
		}
		return d
	}
	cfg := ocispec.Image{
		Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"},
		Config:   ocispec.ImageConfig{Labels: labels},
		RootFS:   ocispec.RootFS{Type: "layers"},
		History:  []ocispec.History{{CreatedBy: "/bin/sh -c #(nop) CMD [\"bash\"]", EmptyLayer: true}},
	}
	var descs []ocispec.Descriptor
	for _, l := range layers {
		var tarBuf bytes.Buffer
		tw := tar.NewWriter(&tarBuf)
		names := make([]string, 0, len(l.Files))
		for name := range l.Files {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			body := l.Files[name]
			if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
				t.Fatal(err)
			}
			if _, err := tw.Write([]byte(body)); err != nil {
				t.Fatal(err)
			}
		}
		if err := tw.Close(); err != nil {
			t.Fatal(err)
		}
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(tarBuf.Bytes())
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		descs = append(descs, push(ocispec.MediaTypeImageLayerGzip, gz.Bytes()))
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, digest.FromBytes(tarBuf.Bytes()))
		cfg.History = append(cfg.History, ocispec.History{CreatedBy: l.CreatedBy, Comment: l.Comment})
	}
	cfgData, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m := ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    push(ocispec.MediaTypeImageConfig, cfgData),
		Layers:    descs,
	}
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	d := content.NewDescriptorFromBytes(ocispec.MediaTypeImageManifest, data)
	if err := r.PushReference(ctx, d, bytes.NewReader(data), tag); err != nil {
		t.Fatal(err)
	}
	return d.Digest.String()
}
