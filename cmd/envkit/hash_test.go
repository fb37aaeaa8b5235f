package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestHash(t *testing.T) {
	code, native, _ := cli(t, "hash", filepath.Join(examples, "minimal", "environment.yml"))
	if code != 0 || !regexp.MustCompile(`^sha256:[0-9a-f]{64}\n$`).MatchString(native) {
		t.Fatalf("hash: exit %d, %q", code, native)
	}
	if _, azure, _ := cli(t, "hash", filepath.Join(examples, "azureml", "environment.yml")); azure != native {
		t.Errorf("the two examples describe one environment: %q vs %q", native, azure)
	}
	conda := filepath.Join(realDir, "mnist", "conda.yml")
	_, deflt, _ := cli(t, "hash", conda)
	_, other, _ := cli(t, "hash", "--base-image", "docker.io/library/ubuntu:24.04", conda)
	t.Setenv("ENVKIT_BASE_IMAGE", "docker.io/library/ubuntu:24.04")
	_, env, _ := cli(t, "hash", conda)
	if deflt == other || other != env {
		t.Errorf("base image for a conda file: default %q, --base-image %q, ENVKIT_BASE_IMAGE %q", deflt, other, env)
	}
	if code, out, _ := cli(t, "hash", "--explain", conda); code != 0 || !strings.HasPrefix(out, `{"envkit-hash":1,`) {
		t.Errorf("hash --explain: exit %d, %q", code, out)
	}
}
