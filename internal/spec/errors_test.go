package spec

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
)

// Independent problems are all reported in one run, in position order, as
// a compiler reports them: files that cannot be read, lines the reader
// refuses, and what validate and the build-context check find in the rest.
func TestEveryProblemReported(t *testing.T) {
	files := fstest.MapFS{
		"ctx/README": {Data: []byte("a build context without a Dockerfile\n")},
	}
	for _, c := range []struct {
		name, text string
		want       []string
	}{
		{"native", "base:\n  dockerfile: Dockerfile\nsteps:\n  - COPY missing.txt /x\nconda:\n  file: conda.yml\npip:\n  - numpy=1.2\n  - -r extra.txt\nenv: {\"A B\": x}\n", []string{
			`env.yml:2:15: base.dockerfile: cannot read "Dockerfile"`,
			`env.yml:4:5: COPY source "missing.txt": no such file in the build context`,
			`env.yml:6:9: conda.file: cannot read "conda.yml"`,
			`env.yml:8:5: pip requirement "numpy=1.2": invalid specifier`,
			`env.yml:9:5: -r: cannot read "extra.txt"`,
			`env.yml:10:7: environment variable name "A B"`,
		}},
		{"azure ml", "image: debian\nbuild:\n  path: ctx\n  dockerfile_path: Dockerfile.gpu\nconda_file: conda.yml\n", []string{
			`env.yml:2:1: image and build are mutually exclusive`,
			`env.yml:4:20: build.dockerfile_path: cannot read "ctx/Dockerfile.gpu"`,
			`env.yml:5:13: conda_file: cannot read "conda.yml"`,
		}},
		{"requirements", "-r a.txt\nnumpy=1.2\n-r b.txt\n", []string{
			`env.yml:1:1: -r: cannot read "a.txt"`,
			`env.yml:2:1: pip requirement "numpy=1.2"`,
			`env.yml:3:1: -r: cannot read "b.txt"`,
		}},
		// A file with errors is not merged into the curated one: only its
		// own problems are reported.
		{"extending", "from: curated/sklearn\nconda:\n  file: conda.yml\npip: [numpy=1.2]\n", []string{
			`env.yml:3:9: conda.file: cannot read "conda.yml"`,
			`env.yml:4:7: pip requirement "numpy=1.2"`,
		}},
		// A platform refused where it is read is not refused again, and a
		// build context that is missing is not replaced by the
		// definition's directory to look for the COPY sources in.
		{"no second report", "base: {image: debian, context: nope}\nsteps: [COPY x /x]\nplatforms: [linux-64]\nconda: {file: conda.yml}\n", []string{
			`env.yml:1:32: base.context: directory "nope" does not exist`,
			`env.yml:3:13: platform "linux-64"`,
			`env.yml:4:15: conda.file: cannot read "conda.yml"`,
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			name := "env.yml"
			if c.name == "requirements" {
				name = "env.txt"
			}
			list := parseErrors(t, name, []byte(c.text), files, len(c.want))
			for i, w := range c.want {
				w = strings.Replace(w, "env.yml", name, 1)
				if !strings.HasPrefix(list[i].Error(), w) {
					t.Errorf("error %d:\n got %s\nwant %s…", i, list[i], w)
				}
			}
		})
	}
}

// parseErrors parses a definition that must fail with want errors, and
// returns them.
func parseErrors(t *testing.T, name string, data []byte, files fs.FS, want int) ErrorList {
	t.Helper()
	_, err := Parse(name, data, files)
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("error %v, want an ErrorList", err)
	}
	if len(list) != want {
		t.Fatalf("%d errors, want %d:\n%v", len(list), want, err)
	}
	return list
}
