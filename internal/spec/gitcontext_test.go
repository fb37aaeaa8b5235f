package spec

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/envkit/envkit/internal/gitctx"
)

// repoTree is a repository's tree at one commit, as an opener returns it
// for a context: the directory the URL names.
func repoTree() fstest.MapFS {
	return fstest.MapFS{
		"env/Dockerfile":     {Data: []byte("FROM docker.io/library/debian:bookworm-slim\nCOPY app /app\n")},
		"env/Dockerfile.gpu": {Data: []byte("FROM docker.io/library/debian:bookworm-slim\n")},
		"env/app/main.py":    {Data: []byte("print('hi')\n")},
		"env/.dockerignore":  {Data: []byte("app\n")},
	}
}

// opener serves repoTree for every ref and records what it was asked.
func opener(asked *[]gitctx.Ref) GitOpener {
	return func(g gitctx.Ref) (fs.FS, error) {
		*asked = append(*asked, g)
		if g.Subdir == "missing" {
			return nil, errors.New("subdirectory missing: no such file or directory")
		}
		if g.Subdir == "" {
			return repoTree(), nil
		}
		return fs.Sub(repoTree(), g.Subdir)
	}
}

// A git build.path reads the Dockerfile and the files it copies from the
// repository (no .dockerignore: BuildKit applies none to a git context),
// and hashes as the same files in a local context would: the URL and
// commit do not enter, the content does.
func TestGitBuildContext(t *testing.T) {
	var asked []gitctx.Ref
	parse := func(name, text string) (*Definition, error) {
		return ParseWith(name, []byte(text), fstest.MapFS{}, Options{Git: opener(&asked)})
	}
	def, err := parse("env.yml", "$schema: "+AzureMLSchema+"\nbuild:\n  path: https://github.com/org/repo#main:env\n")
	if err != nil {
		t.Fatal(err)
	}
	b := def.Base
	if b.Git == nil || *b.Git != (gitctx.Ref{Remote: "https://github.com/org/repo", Ref: "main", Subdir: "env"}) {
		t.Fatalf("git context: %+v", b.Git)
	}
	if b.Context != "https://github.com/org/repo#main:env" || b.DockerfilePath != "Dockerfile" || !strings.Contains(b.Dockerfile, "COPY app /app") {
		t.Errorf("base: %+v", b)
	}
	if len(b.ContextFiles) != 1 || b.ContextFiles[0].Path != "app/main.py" {
		t.Errorf("context files: %+v (the .dockerignore must not apply)", b.ContextFiles)
	}

	// The native form: base.context is the URL, base.dockerfile a path
	// inside it, whatever the key order.
	native, err := parse("env.yml", "base:\n  dockerfile: Dockerfile\n  context: https://github.com/org/repo.git#main:env\n")
	if err != nil {
		t.Fatal(err)
	}
	if native.Base.Dockerfile != b.Dockerfile || len(native.Base.ContextFiles) != 1 {
		t.Errorf("native: %+v", native.Base)
	}
	if len(asked) != 2 {
		t.Errorf("opened %d times, want 2", len(asked))
	}

	// dockerfile_path is relative to the context.
	gpu, err := parse("env.yml", "$schema: "+AzureMLSchema+"\nbuild:\n  path: https://github.com/org/repo#main:env\n  dockerfile_path: Dockerfile.gpu\n")
	if err != nil {
		t.Fatal(err)
	}
	if gpu.Base.DockerfilePath != "Dockerfile.gpu" || gpu.Base.DockerfileFile != "https://github.com/org/repo#main:env Dockerfile.gpu" {
		t.Errorf("dockerfile_path: %+v", gpu.Base)
	}
}

func TestGitBuildContextErrors(t *testing.T) {
	var asked []gitctx.Ref
	for _, tc := range []struct {
		name, text, want string
		noOpener         bool
	}{
		{"not git", "build:\n  path: azureml://datastores/x/paths/ctx\n", "env.yml:2:9: build.path: \"azureml://datastores/x/paths/ctx\" is not a git URL", false},
		{"no Dockerfile", "build:\n  path: https://github.com/org/repo#main\n", "env.yml:2:9: build.path: no Dockerfile in https://github.com/org/repo#main", false},
		{"missing dockerfile_path", "build:\n  path: https://github.com/org/repo#main:env\n  dockerfile_path: nope\n", "env.yml:3:20: build.dockerfile_path: cannot read \"nope\" in https://github.com/org/repo#main:env", false},
		{"opener fails", "build:\n  path: https://github.com/org/repo#main:missing\n", "env.yml:2:9: build.path: subdirectory missing", false},
		{"no opener", "build:\n  path: https://github.com/org/repo#main:env\n", "env.yml:2:9: build.path: git build context https://github.com/org/repo#main:env: this command does not read git contexts", true},
		{"password", "base:\n  image: debian\n  context: https://u:secret@example.com/r.git\n", "env.yml:3:12: base.context: git URL \"https://u:xxxxx@example.com/r.git\" holds a password", false},
	} {
		o := Options{Git: opener(&asked)}
		if tc.noOpener {
			o.Git = nil
		}
		_, err := ParseWith("env.yml", []byte(tc.text), fstest.MapFS{}, o)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: the password is in the message: %v", tc.name, err)
		}
	}
}
