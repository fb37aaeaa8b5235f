package frontend

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/pb"

	"github.com/envkit/envkit/internal/conda/lock"
	"github.com/envkit/envkit/internal/gitctx"
	"github.com/envkit/envkit/internal/hash"
	"github.com/envkit/envkit/internal/spec"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/*.golden")

// gitGateway is the fake gateway with git sources: a solve of one git
// source gets the repository's tree at the ref it names, below its
// subdirectory, as BuildKit's git source checks it out.
type gitGateway struct {
	*fakeGateway
	trees   map[string]fstest.MapFS // ref → the repository's tree
	fetched []string                // git source identifiers solved
}

func (g *gitGateway) Solve(ctx context.Context, req gwclient.SolveRequest) (*gwclient.Result, error) {
	var def llb.Definition
	def.FromPB(req.Definition)
	if len(def.Def) == 2 {
		var op pb.Op
		if err := op.UnmarshalVT(def.Def[0]); err != nil {
			return nil, err
		}
		if src := op.GetSource(); src != nil && strings.HasPrefix(src.Identifier, "git://") {
			g.fetched = append(g.fetched, src.Identifier)
			_, fragment, _ := strings.Cut(src.Identifier, "#")
			ref, subdir, _ := strings.Cut(fragment, ":")
			tree, ok := g.trees[ref]
			if !ok {
				return nil, fmt.Errorf("repository does not contain ref %s", ref)
			}
			out := fstest.MapFS{}
			for name, f := range tree {
				if rest, ok := strings.CutPrefix(name, subdir+"/"); ok || subdir == "" {
					out[cmp.Or(rest, name)] = f
				}
			}
			res := gwclient.NewResult()
			res.SetRef(&fakeRef{files: out})
			return res, nil
		}
	}
	return g.fakeGateway.Solve(ctx, req)
}

const (
	lockedCommit = "1111111111111111111111111111111111111111"
	gitAzure     = "$schema: https://azuremlschemas.azureedge.net/latest/environment.schema.json\nname: gitctx\nbuild:\n  path: https://github.com/org/repo#main:env\n"
)

func gitTree(app string) fstest.MapFS {
	return fstest.MapFS{
		"env/Dockerfile": {Data: []byte("FROM busybox:1.36\nCOPY app.txt /app.txt\n"), Mode: 0o644},
		"env/app.txt":    {Data: []byte(app), Mode: 0o644},
		"README":         {Data: []byte("not in the context\n"), Mode: 0o644},
	}
}

// newGitGateway serves gitAzure, with a lock pinning main to
// lockedCommit when locked; main's head differs from the locked commit.
func newGitGateway(t *testing.T, locked bool) *gitGateway {
	t.Helper()
	return newGitGatewayFor(t, gitAzure, locked)
}

func newGitGatewayFor(t *testing.T, definition string, locked bool) *gitGateway {
	t.Helper()
	g := &gitGateway{fakeGateway: newGateway(definition, nil), trees: map[string]fstest.MapFS{
		lockedCommit: gitTree("locked\n"),
		"main":       gitTree("moved on\n"),
	}}
	if locked {
		l := &lock.Lock{Metadata: lock.Metadata{ContentHash: map[string]string{}, Sources: []string{"environment.yml"},
			Custom: gitctx.Record(nil, map[string]string{"git-context:https://github.com/org/repo#main": lockedCommit})}}
		data, err := l.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		g.locals["context"]["conda-lock.yml"] = &fstest.MapFile{Data: data, Mode: 0o644}
	}
	return g
}

// An Azure ML build.path naming a git branch builds BuildKit's git source
// at the commit the lock pins (no keep-git-dir), reads the Dockerfile
// and the files it copies from it, and labels the image with the hash
// the same files give in a local context.
func TestGitContextBuild(t *testing.T) {
	g := newGitGateway(t, true)
	res, err := Build(context.Background(), g)
	if err != nil {
		t.Fatal(err)
	}
	want := "git://github.com/org/repo#" + lockedCommit + ":env"
	if len(g.fetched) == 0 || slices.ContainsFunc(g.fetched, func(s string) bool { return s != want }) {
		t.Errorf("git sources read %v, want only %s", g.fetched, want)
	}
	if len(g.solves) != 1 {
		t.Fatalf("%d build solves, want 1", len(g.solves))
	}
	compareGitGolden(t, filepath.Join("testdata", "git-context.golden"), renderOps(t, g.solves[0]))

	local, err := spec.Parse("environment.yml", []byte("$schema: "+spec.AzureMLSchema+"\nbuild:\n  path: env\n"), gitTree("locked\n"))
	if err != nil {
		t.Fatal(err)
	}
	wantHash, err := hash.Of(local)
	if err != nil {
		t.Fatal(err)
	}
	img := imageOf(t, res, exptypes.ExporterImageConfigKey)
	if got := img.Config.Labels["dev.envkit.definition-hash"]; got != wantHash {
		t.Errorf("definition hash %s, want %s (the locked commit's files in a local context)", got, wantHash)
	}

	// Without a lock BuildKit resolves the branch: the source names it.
	g = newGitGateway(t, false)
	if _, err := Build(context.Background(), g); err != nil {
		t.Fatal(err)
	}
	if want := "git://github.com/org/repo#main:env"; len(g.fetched) == 0 || g.fetched[0] != want {
		t.Errorf("without a lock: git sources %v, want %s", g.fetched, want)
	}
}

// A native definition's steps copy from a git base.context too.
func TestGitContextSteps(t *testing.T) {
	g := newGitGatewayFor(t, "base:\n  image: busybox:1.36\n  context: https://github.com/org/repo.git#main:env\nsteps:\n  - COPY app.txt /app.txt\n", false)
	if _, err := Build(context.Background(), g); err != nil {
		t.Fatal(err)
	}
	if len(g.solves) != 1 || !slices.Contains(sources(t, g.solves[0]), "git://github.com/org/repo.git#main:env") {
		t.Fatalf("the steps' context is not the git source: %d solves", len(g.solves))
	}
}

// renderOps prints a definition's ops, one a line, in the order they are
// marshalled: sources with their attributes, file and exec ops briefly.
func renderOps(t *testing.T, def *pb.Definition) string {
	t.Helper()
	var b strings.Builder
	for _, dt := range def.Def[:len(def.Def)-1] {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			t.Fatal(err)
		}
		switch {
		case op.GetSource() != nil:
			src := op.GetSource()
			var attrs []string
			for k, v := range src.Attrs {
				attrs = append(attrs, k+"="+v)
			}
			sort.Strings(attrs)
			fmt.Fprintf(&b, "source %s %s\n", src.Identifier, strings.Join(attrs, " "))
		case op.GetFile() != nil:
			var actions []string
			for _, a := range op.GetFile().Actions {
				switch {
				case a.GetCopy() != nil:
					actions = append(actions, "copy "+a.GetCopy().Src+" "+a.GetCopy().Dest)
				case a.GetMkfile() != nil:
					actions = append(actions, "mkfile "+a.GetMkfile().Path)
				case a.GetMkdir() != nil:
					actions = append(actions, "mkdir "+a.GetMkdir().Path)
				case a.GetRm() != nil:
					actions = append(actions, "rm "+a.GetRm().Path)
				}
			}
			fmt.Fprintf(&b, "file %s\n", strings.Join(actions, "; "))
		case op.GetExec() != nil:
			fmt.Fprintf(&b, "exec %s\n", strings.Join(op.GetExec().Meta.Args, " "))
		case op.GetMerge() != nil:
			fmt.Fprintf(&b, "merge %d inputs\n", len(op.Inputs))
		default:
			fmt.Fprintf(&b, "op %T\n", op.Op)
		}
	}
	return b.String()
}

func compareGitGolden(t *testing.T, file, got string) {
	t.Helper()
	if *updateGolden {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test -run TestGitContextBuild -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (run go test -update and review the diff):\ngot:\n%s\nwant:\n%s", file, got, want)
	}
}
