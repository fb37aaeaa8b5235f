package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote/auth"

	"github.com/envkit/envkit/internal/registry/registrytest"
)

func anonymous() *Client { return NewClientWith(nil, nil) }

var pushTime = time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)

func testEnv(hash string) *Environment {
	return &Environment{
		Name:        "sklearn",
		Description: "scikit-learn on CPU",
		Tags:        map[string]string{"team": "ml"},
		Hash:        hash,
		Files: []File{
			{Path: "files/setup.sh", Role: RoleFile, Data: []byte("#!/bin/sh\necho hi\n")},
			{Path: "environment.yml", Role: RoleDefinition, Data: []byte("name: sklearn\n# comment kept\n")},
			{Path: "conda-lock.yml", Role: RoleLock, Data: []byte("version: 1\n")},
		},
	}
}

func TestPushPullRoundTrip(t *testing.T) {
	ctx := context.Background()
	host := registrytest.Start(t, "", "")
	c := anonymous()
	env := testEnv("sha256:aaaa")
	res, err := c.Push(ctx, host+"/envs", env, 0, pushTime)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Created || res.Version.Number != 1 || res.Ref != host+"/envs/sklearn:1" {
		t.Fatalf("first push: %+v", res)
	}
	for _, ref := range []string{host + "/envs/sklearn", host + "/envs/sklearn:1", host + "/envs/sklearn:latest"} {
		got, v, err := c.Pull(ctx, ref)
		if err != nil {
			t.Fatalf("pull %s: %v", ref, err)
		}
		if v.Number != 1 || v.Hash != env.Hash || !v.Pushed.Equal(pushTime) || v.Tags["team"] != "ml" || v.Description != env.Description {
			t.Fatalf("pull %s: version %+v", ref, v)
		}
		want := sortedFiles(env.Files)
		if len(got.Files) != len(want) {
			t.Fatalf("pull %s: %d files, want %d", ref, len(got.Files), len(want))
		}
		for i := range want {
			if got.Files[i].Path != want[i].Path || got.Files[i].Role != want[i].Role || !bytes.Equal(got.Files[i].Data, want[i].Data) {
				t.Fatalf("pull %s: file %d = %s %s %q, want %s %s %q", ref, i, got.Files[i].Path, got.Files[i].Role, got.Files[i].Data, want[i].Path, want[i].Role, want[i].Data)
			}
		}
	}
}

func TestPushVersions(t *testing.T) {
	ctx := context.Background()
	host := registrytest.Start(t, "", "")
	c := anonymous()
	repo := host + "/team/envs"
	if _, err := c.Push(ctx, repo, testEnv("sha256:aaaa"), 0, pushTime); err != nil {
		t.Fatal(err)
	}

	// Same hash, other name in the file: no new version.
	same := testEnv("sha256:aaaa")
	same.Files[1].Data = []byte("name: renamed\n")
	res, err := c.Push(ctx, repo, same, 0, pushTime.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if res.Created || res.Version.Number != 1 {
		t.Fatalf("equal definition: %+v, want existing version 1", res)
	}

	res, err = c.Push(ctx, repo, testEnv("sha256:bbbb"), 0, pushTime.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Created || res.Version.Number != 2 {
		t.Fatalf("changed definition: %+v, want new version 2", res)
	}

	// Explicit versions: the same content is a no-op, other content is
	// refused, a new number is created without moving latest backwards.
	if res, err = c.Push(ctx, repo, testEnv("sha256:bbbb"), 2, pushTime); err != nil || res.Created {
		t.Fatalf("explicit same version: %+v %v", res, err)
	}
	if _, err = c.Push(ctx, repo, testEnv("sha256:cccc"), 1, pushTime); err == nil || !strings.Contains(err.Error(), "already holds a different definition") {
		t.Fatalf("overwriting version 1: %v", err)
	}
	if res, err = c.Push(ctx, repo, testEnv("sha256:dddd"), 10, pushTime); err != nil || !res.Created {
		t.Fatalf("explicit version 10: %+v %v", res, err)
	}

	vs, err := c.Versions(ctx, repo+"/sklearn")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range vs {
		got = append(got, v.Hash)
	}
	if strings.Join(got, " ") != "sha256:aaaa sha256:bbbb sha256:dddd" || vs[2].Number != 10 {
		t.Fatalf("versions: %+v", vs)
	}
	_, latest, err := c.Pull(ctx, repo+"/sklearn")
	if err != nil || latest.Number != 10 {
		t.Fatalf("latest: %+v %v", latest, err)
	}

	other := testEnv("sha256:eeee")
	other.Name = "PyTorch-CPU"
	if _, err := c.Push(ctx, repo, other, 0, pushTime); err != nil {
		t.Fatal(err)
	}
	entries, err := c.List(ctx, repo)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[0].Ref != repo+"/pytorch-cpu" || entries[0].Latest.Name != "PyTorch-CPU" || entries[1].Latest.Number != 10 {
		t.Fatalf("list: %+v", entries)
	}
}

func TestMissingRepository(t *testing.T) {
	ctx := context.Background()
	host := registrytest.Start(t, "", "")
	c := anonymous()
	if _, _, err := c.Pull(ctx, host+"/envs/nothing:1"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("pull: %v", err)
	}
	if _, err := c.Versions(ctx, host+"/envs/nothing"); err == nil || !strings.Contains(err.Error(), "no such repository") {
		t.Fatalf("versions: %v", err)
	}
	if _, err := c.List(ctx, host+"/envs"); err == nil || !strings.Contains(err.Error(), "no envkit environments") {
		t.Fatalf("list: %v", err)
	}
}

func TestCredentials(t *testing.T) {
	ctx := context.Background()
	host := registrytest.Start(t, "alice", "s3cret")
	good := NewClientWith(auth.StaticCredential(host, auth.Credential{Username: "alice", Password: "s3cret"}), nil)
	if _, err := good.Push(ctx, host+"/envs", testEnv("sha256:aaaa"), 0, pushTime); err != nil {
		t.Fatalf("push with credentials: %v", err)
	}
	bad := NewClientWith(auth.StaticCredential(host, auth.Credential{Username: "alice", Password: "wrong"}), nil)
	for name, call := range map[string]func() error{
		"push":     func() error { _, err := bad.Push(ctx, host+"/envs", testEnv("sha256:bbbb"), 0, pushTime); return err },
		"pull":     func() error { _, _, err := bad.Pull(ctx, host+"/envs/sklearn:1"); return err },
		"versions": func() error { _, err := bad.Versions(ctx, host+"/envs/sklearn"); return err },
		"list":     func() error { _, err := bad.List(ctx, host+"/envs"); return err },
	} {
		if err := call(); err == nil || !strings.Contains(err.Error(), "authentication failed") {
			t.Errorf("%s with wrong password: %v", name, err)
		}
	}
}

// pushManifest stores a hand-made manifest (and an empty config blob) under
// a tag, for the cases envkit itself never writes.
func pushManifest(t *testing.T, host, repo, tag string, m ocispec.Manifest, blobs ...[]byte) {
	t.Helper()
	ctx := context.Background()
	ref, err := ParseRef(host + "/" + repo + ":1")
	if err != nil {
		t.Fatal(err)
	}
	r := anonymous().repository(ref)
	for _, b := range append(blobs, []byte("{}")) {
		d := content.NewDescriptorFromBytes("application/octet-stream", b)
		if err := pushBlob(ctx, r, d, b); err != nil {
			t.Fatal(err)
		}
	}
	m.Versioned.SchemaVersion = 2
	m.MediaType = ocispec.MediaTypeImageManifest
	m.Config = content.NewDescriptorFromBytes(ocispec.MediaTypeImageConfig, []byte("{}"))
	if m.Layers == nil {
		m.Layers = []ocispec.Descriptor{}
	}
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	d := content.NewDescriptorFromBytes(ocispec.MediaTypeImageManifest, data)
	if err := r.PushReference(ctx, d, bytes.NewReader(data), tag); err != nil {
		t.Fatal(err)
	}
}

func TestNotAnEnvironment(t *testing.T) {
	ctx := context.Background()
	host := registrytest.Start(t, "", "")
	pushManifest(t, host, "envs/image", "1", ocispec.Manifest{})
	c := anonymous()
	_, _, err := c.Pull(ctx, host+"/envs/image:1")
	var notEnv *ErrNotEnvironment
	if !errors.As(err, &notEnv) || !strings.Contains(err.Error(), "is not an envkit environment (config media type application/vnd.oci.image.config.v1+json") {
		t.Fatalf("pull of an image: %v", err)
	}
	if _, err := c.Versions(ctx, host+"/envs/image"); !errors.As(err, &notEnv) {
		t.Fatalf("versions of an image repository: %v", err)
	}
	if _, err := c.Push(ctx, host+"/envs", &Environment{Name: "image", Hash: "sha256:aaaa", Files: testEnv("").Files}, 0, pushTime); !errors.As(err, &notEnv) {
		t.Fatalf("push onto an image repository: %v", err)
	}
}

func TestPullRefusesEscapingPaths(t *testing.T) {
	ctx := context.Background()
	host := registrytest.Start(t, "", "")
	data := []byte("x")
	layer := content.NewDescriptorFromBytes(MediaTypeDefinition, data)
	layer.Annotations = map[string]string{ocispec.AnnotationTitle: "../../etc/passwd"}
	pushManifest(t, host, "envs/evil", "1", ocispec.Manifest{
		ArtifactType: ArtifactType,
		Layers:       []ocispec.Descriptor{layer},
		Annotations:  map[string]string{AnnotationVersion: "1", AnnotationHash: "sha256:aaaa", AnnotationName: "evil"},
	}, data)
	if _, _, err := anonymous().Pull(ctx, host+"/envs/evil:1"); err == nil || !strings.Contains(err.Error(), "must be relative, clean and inside") {
		t.Fatalf("pull: %v", err)
	}
}

func TestParseRef(t *testing.T) {
	for in, want := range map[string]string{
		"localhost:5000/envs/sklearn":                                   "localhost:5000/envs/sklearn:latest",
		"localhost:5000/envs/sklearn:3":                                 "localhost:5000/envs/sklearn:3",
		"registry.example/a/b/c:latest":                                 "registry.example/a/b/c:latest",
		"localhost:5000/envs/sklearn:03":                                "error",
		"localhost:5000/envs/sklearn:v1":                                "error",
		"localhost:5000/envs/Sklearn:1":                                 "error",
		"localhost:5000/envs/sklearn@sha256:" + strings.Repeat("a", 64): "error",
	} {
		ref, err := ParseRef(in)
		got := ref.String()
		if err != nil {
			got = "error"
		}
		if got != want {
			t.Errorf("ParseRef(%q) = %s (%v), want %s", in, got, err, want)
		}
	}
	for in, want := range map[string]bool{
		"localhost:5000/envs/x": true, "127.0.0.1:5000/x": true, "ghcr.io/a/b": true,
		"environment.yml": false, "dir/environment.yml": false, "./x.y/z": false,
	} {
		if LooksLikeRef(in) != want {
			t.Errorf("LooksLikeRef(%q) = %v", in, !want)
		}
	}
}
