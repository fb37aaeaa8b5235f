package gitctx

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	const sha = "0123456789abcdef0123456789abcdef01234567"
	for _, tc := range []struct {
		in   string
		want Ref
	}{
		// Azure ML's form (azureml-assets releases write it): no .git.
		{"https://github.com/Azure/azureml-assets#" + sha + ":assets/training/env/context", Ref{Remote: "https://github.com/Azure/azureml-assets", Ref: sha, Subdir: "assets/training/env/context"}},
		{"https://github.com/org/repo", Ref{Remote: "https://github.com/org/repo"}},
		{"https://github.com/org/repo.git#main", Ref{Remote: "https://github.com/org/repo.git", Ref: "main"}},
		{"https://github.com/org/repo.git#:sub/dir/", Ref{Remote: "https://github.com/org/repo.git", Subdir: "sub/dir"}},
		{"https://github.com/org/repo.git#v1:../../x", Ref{Remote: "https://github.com/org/repo.git", Ref: "v1", Subdir: "x"}},
		{"http://127.0.0.1:8080/repo.git#feature/x:ctx", Ref{Remote: "http://127.0.0.1:8080/repo.git", Ref: "feature/x", Subdir: "ctx"}},
		{"git://example.com/repo.git#main", Ref{Remote: "git://example.com/repo.git", Ref: "main"}},
		{"ssh://git@example.com/org/repo.git#main:ctx", Ref{Remote: "ssh://git@example.com/org/repo.git", Ref: "main", Subdir: "ctx"}},
		{"git@github.com:org/repo.git#main:ctx", Ref{Remote: "git@github.com:org/repo.git", Ref: "main", Subdir: "ctx"}},
		// BuildKit's query form.
		{"https://github.com/org/repo.git?tag=v1&subdir=ctx", Ref{Remote: "https://github.com/org/repo.git", Ref: "refs/tags/v1", Subdir: "ctx"}},
		{"https://github.com/org/repo?branch=main&commit=" + sha, Ref{Remote: "https://github.com/org/repo", Ref: "refs/heads/main", Commit: sha}},
	} {
		got, err := Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("Parse(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"azureml://datastores/workspaceblobstore/paths/ctx", "is not a git URL"},
		{"file:///srv/repo.git", "is not a git URL"},
		{"s3://bucket/ctx", "is not a git URL"},
		{"https://github.com/org/repo.git?keep-git-dir=true", "keep-git-dir is not supported"},
		{"https://github.com/org/repo.git?submodules=false", "only the ref, branch, tag, subdir and commit queries"},
		{"https://github.com/org/repo.git?commit=abc123", "not a full commit hash"},
		{"https://github.com/org/repo.git?commit=" + sha + "&ref=" + strings.Repeat("f", 40), "differ"},
		{"https://github.com/org/repo.git?nope=1", "unexpected query"},
		{"https://user:tok@github.com/org/repo.git", "holds a password or token"},
	} {
		_, err := Parse(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q): %v, want %q", tc.in, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "tok@") {
			t.Errorf("Parse(%q): the token is in the message: %v", tc.in, err)
		}
	}
}

func TestIsRemote(t *testing.T) {
	for in, want := range map[string]bool{
		"https://github.com/org/repo": true, "git@github.com:org/repo.git": true, "azureml://x": true,
		"docker-context": false, "../ctx": false, ".": false, "github.com/org/repo": false,
	} {
		if IsRemote(in) != want {
			t.Errorf("IsRemote(%q) = %v", in, !want)
		}
	}
}

// pick chooses as BuildKit's git source: refs/<ref> exactly, else the
// branch, else the tag's commit (an annotated tag peeled).
func TestPick(t *testing.T) {
	const (
		a = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		b = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
		c = "cccccccccccccccccccccccccccccccccccccccc"
	)
	out := a + "\tHEAD\n" + a + "\trefs/heads/main\n" + b + "\trefs/heads/v1\n" + c + "\trefs/tags/v1\n" + a + "\trefs/tags/v2\n" + b + "\trefs/tags/v2^{}\n"
	for ref, want := range map[string]string{
		"": a, "main": a, "refs/heads/main": a, "v1": b, "refs/tags/v1": c, "v2": b, "refs/tags/v2": b, "nope": "",
	} {
		if got := pick(out, ref); got != want {
			t.Errorf("pick(%q) = %q, want %q", ref, got, want)
		}
	}
}

func TestPinRecord(t *testing.T) {
	const sha = "0123456789abcdef0123456789abcdef01234567"
	branch := Ref{Remote: "https://h/r.git", Ref: "main", Subdir: "a"}
	if got := Record(nil, nil); got != nil {
		t.Errorf("Record without pins = %v, want nil (a lock without git contexts keeps its bytes)", got)
	}
	spark := map[string]string{"spark-jar:g:a:1": "u#sha256=x"}
	custom := Record(spark, map[string]string{branch.key(): sha})
	if len(custom) != 2 || len(spark) != 1 {
		t.Fatalf("Record: %v (input changed: %v)", custom, spark)
	}
	// The subdirectory does not matter: one ref is one commit.
	if got := (Ref{Remote: "https://h/r.git", Ref: "main", Subdir: "b"}).Pin(custom); got != sha {
		t.Errorf("Pin = %q", got)
	}
	if got := (Ref{Remote: "https://h/r.git", Ref: "dev"}).Pin(custom); got != "" {
		t.Errorf("Pin of an unlocked ref = %q", got)
	}
	exact := Ref{Remote: "https://h/r.git", Ref: strings.Repeat("e", 40)}
	if got := exact.Pin(custom); got != exact.Ref || !exact.Exact() || branch.Exact() {
		t.Errorf("an exact ref pins itself: %q", got)
	}
	if got := Record(custom, nil); len(got) != 1 || got["spark-jar:g:a:1"] == "" {
		t.Errorf("Record replaces the git pins only: %v", got)
	}
}

// Parse never panics, and what it reads prints (String) to a URL that
// reads back the same.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"https://github.com/org/repo#main:ctx", "https://github.com/org/repo.git?tag=v1&subdir=a",
		"git@github.com:org/repo.git#:x", "ssh://git@h:22/r.git#" + strings.Repeat("a", 40),
		"http://127.0.0.1:9/r.git#a:b:c", "https://h/r?commit=" + strings.Repeat("1", 64),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := Parse(s)
		if err != nil {
			return
		}
		if strings.HasPrefix(r.Subdir, "/") || strings.Contains("/"+r.Subdir+"/", "/../") {
			t.Fatalf("Parse(%q): subdir %q leaves the repository", s, r.Subdir)
		}
		back, err := Parse(r.String())
		if err != nil {
			t.Fatalf("Parse(%q) = %+v; its String %q: %v", s, r, r.String(), err)
		}
		want := r
		if want.Commit != "" {
			want.Ref, want.Commit = want.Commit, ""
		}
		if back != want {
			t.Fatalf("Parse(%q) = %+v; String %q reads back as %+v", s, r, r.String(), back)
		}
	})
}
