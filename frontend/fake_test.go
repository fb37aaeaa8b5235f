package frontend

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"sort"
	"strings"
	"sync"
	"testing/fstest"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/util/apicaps"
	"github.com/moby/buildkit/util/grpcerrors"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	fstypes "github.com/tonistiigi/fsutil/types"
)

// fakeGateway is a gateway client with no daemon: local sources are served
// from in-memory directories, image configs from a table, and every other
// solve is recorded and answered with an empty reference. It runs the
// frontend's real code path end to end up to the solver.
// gatewayMessageLimit is BuildKit's limit on one gateway message
// (defaults.DefaultMaxSendMsgSize).
const gatewayMessageLimit = 16 << 20

type fakeGateway struct {
	opts   map[string]string
	locals map[string]fstest.MapFS // local name -> files
	images map[string]string       // ref (as asked) -> pinned digest
	http   map[string][]byte       // URL -> body; others answer 404
	// private hosts (host:port) answer 401 to an HTTP source that names
	// no secret; auth records the secret each fetched URL named.
	private map[string]bool
	auth    map[string]string
	// fail makes a build solve fail at the vertex of that name, with
	// that error, as BuildKit's solver reports it through the gateway
	// (errdefs.VertexError in a gRPC status).
	fail map[string]error
	// resolveErr makes ResolveImageConfig of a ref fail with that error.
	resolveErr map[string]error
	// llbCaps and caps are the daemon's capabilities (newGateway: all).
	llbCaps, caps apicaps.CapSet

	mu       sync.Mutex
	solves   []*pb.Definition // the build solves, in order
	evaluate []bool           // whether each was evaluated in the frontend
	resolved []string         // refs whose config was asked for
	fetched  []string         // HTTP sources read back by the frontend
}

func (g *fakeGateway) BuildOpts() gwclient.BuildOpts {
	return gwclient.BuildOpts{
		Opts:      g.opts,
		SessionID: "session",
		Workers:   []gwclient.WorkerInfo{{ID: "w", Platforms: []ocispecs.Platform{{OS: "linux", Architecture: "amd64"}}}},
		LLBCaps:   g.llbCaps,
		Caps:      g.caps,
	}
}

func (g *fakeGateway) Solve(ctx context.Context, req gwclient.SolveRequest) (*gwclient.Result, error) {
	var def llb.Definition
	def.FromPB(req.Definition)
	// A definition that is just a local source is a file transfer.
	if len(def.Def) == 2 {
		var op pb.Op
		if err := op.UnmarshalVT(def.Def[0]); err != nil {
			return nil, err
		}
		if src := op.GetSource(); src != nil && strings.HasPrefix(src.Identifier, "http") {
			body, err := g.get(src)
			if err != nil {
				return nil, err
			}
			res := gwclient.NewResult()
			res.SetRef(&fakeRef{files: fstest.MapFS{src.Attrs[pb.AttrHTTPFilename]: {Data: body, Mode: 0o644}}})
			return res, nil
		}
		if src := op.GetSource(); src != nil && strings.HasPrefix(src.Identifier, "local://") {
			name := strings.TrimPrefix(src.Identifier, "local://")
			files, ok := g.locals[name]
			if !ok {
				return nil, fmt.Errorf("no local %q", name)
			}
			var follow []string
			if v := src.Attrs[pb.AttrFollowPaths]; v != "" {
				if err := json.Unmarshal([]byte(v), &follow); err != nil {
					return nil, err
				}
			}
			res := gwclient.NewResult()
			res.SetRef(&fakeRef{files: filter(files, follow)})
			return res, nil
		}
	}
	if res, ok, err := g.fetchAll(def); ok {
		return res, err
	}
	g.mu.Lock()
	g.solves = append(g.solves, req.Definition)
	g.evaluate = append(g.evaluate, req.Evaluate)
	g.mu.Unlock()
	for dgst, md := range def.Metadata {
		if err, ok := g.fail[md.Description["llb.customname"]]; ok {
			// Over the gateway, as the grpc client decodes it.
			return nil, grpcerrors.FromGRPC(grpcerrors.ToGRPC(ctx, errdefs.WrapVertex(err, dgst)))
		}
	}
	res := gwclient.NewResult()
	res.SetRef(&fakeRef{files: fstest.MapFS{}})
	return res, nil
}

// filter keeps the followed paths (and everything beneath them), as a
// local transfer with FollowPaths does.
func filter(files fstest.MapFS, follow []string) fstest.MapFS {
	if len(follow) == 0 {
		return files
	}
	out := fstest.MapFS{}
	for name, f := range files {
		for _, p := range follow {
			if name == p || strings.HasPrefix(name, p+"/") {
				out[name] = f
			}
		}
	}
	return out
}

// fetchAll answers a definition made only of HTTP sources and merges
// (a batch of repodata shards): one ref holding every file; ok is false
// for any other definition.
func (g *fakeGateway) fetchAll(def llb.Definition) (*gwclient.Result, bool, error) {
	files := fstest.MapFS{}
	for _, dt := range def.Def[:len(def.Def)-1] {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			return nil, true, err
		}
		switch {
		case op.GetMerge() != nil:
		case op.GetSource() != nil && strings.HasPrefix(op.GetSource().Identifier, "http"):
			src := op.GetSource()
			body, err := g.get(src)
			if err != nil {
				// As BuildKit's solver reports it: at the source's vertex.
				return nil, true, errdefs.WrapVertex(err, digest.FromBytes(dt))
			}
			if want := src.Attrs[pb.AttrHTTPChecksum]; want != "" && want != digest.FromBytes(body).String() {
				return nil, true, fmt.Errorf("digest mismatch %s: %s", digest.FromBytes(body), want)
			}
			files[src.Attrs[pb.AttrHTTPFilename]] = &fstest.MapFile{Data: body, Mode: 0o644}
		default:
			return nil, false, nil
		}
	}
	res := gwclient.NewResult()
	res.SetRef(&fakeRef{files: files})
	return res, true, nil
}

// get answers an HTTP source as a server would (404 for a URL it does
// not have, 401 from a private host without a secret) and records it.
func (g *fakeGateway) get(src *pb.SourceOp) ([]byte, error) {
	secret := src.Attrs[pb.AttrHTTPAuthHeaderSecret]
	if u, err := url.Parse(src.Identifier); err == nil && g.private[u.Host] && secret == "" {
		return nil, fmt.Errorf("%s: invalid response status 401", src.Identifier)
	}
	body, ok := g.http[src.Identifier]
	if !ok {
		return nil, fmt.Errorf("%s: invalid response status 404", src.Identifier)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.fetched = append(g.fetched, src.Identifier)
	if g.auth == nil {
		g.auth = map[string]string{}
	}
	g.auth[src.Identifier] = secret
	return body, nil
}

func (g *fakeGateway) ResolveImageConfig(ctx context.Context, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	g.mu.Lock()
	g.resolved = append(g.resolved, ref)
	g.mu.Unlock()
	if err := g.resolveErr[ref]; err != nil {
		return "", "", nil, err
	}
	dgst, ok := g.images[ref]
	if !ok {
		return "", "", nil, fmt.Errorf("%s: not found", ref)
	}
	p := ocispecs.Platform{OS: "linux", Architecture: "amd64"}
	if opt.ImageOpt != nil && opt.ImageOpt.Platform != nil {
		p = *opt.ImageOpt.Platform
	}
	var img dockerspec.DockerOCIImage
	img.OS, img.Architecture = p.OS, p.Architecture
	img.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	img.Config.Cmd = []string{"sh"}
	img.RootFS = ocispecs.RootFS{Type: "layers", DiffIDs: []digest.Digest{digest.FromString(ref)}}
	dt, err := json.Marshal(img)
	return ref, digest.Digest(dgst), dt, err
}

func (g *fakeGateway) ResolveSourceMetadata(ctx context.Context, op *pb.SourceOp, opt sourceresolver.Opt) (*sourceresolver.MetaResponse, error) {
	return nil, fmt.Errorf("fake gateway: source metadata for %s", op.Identifier)
}

func (g *fakeGateway) Inputs(ctx context.Context) (map[string]llb.State, error) {
	return map[string]llb.State{}, nil
}

func (g *fakeGateway) NewContainer(ctx context.Context, req gwclient.NewContainerRequest) (gwclient.Container, error) {
	return nil, fmt.Errorf("fake gateway: no containers")
}

func (g *fakeGateway) Warn(ctx context.Context, dgst digest.Digest, msg string, opts gwclient.WarnOpts) error {
	return nil
}

// fakeRef serves files of a transferred local.
type fakeRef struct{ files fstest.MapFS }

func (r *fakeRef) ToState() (llb.State, error)        { return llb.Scratch(), nil }
func (r *fakeRef) Evaluate(ctx context.Context) error { return nil }

func (r *fakeRef) ReadFile(ctx context.Context, req gwclient.ReadRequest) ([]byte, error) {
	dt, err := fs.ReadFile(r.files, strings.TrimPrefix(req.Filename, "/"))
	if err != nil {
		return nil, fmt.Errorf("open %s: no such file or directory", req.Filename)
	}
	if req.Range != nil {
		end := min(int(req.Range.Offset)+int(req.Range.Length), len(dt))
		dt = dt[min(int(req.Range.Offset), len(dt)):end]
	}
	// BuildKit refuses a read over its gRPC message limit.
	if len(dt) > gatewayMessageLimit {
		return nil, fmt.Errorf("grpc: received message larger than max (%d vs. %d)", len(dt), gatewayMessageLimit)
	}
	return dt, nil
}

func (r *fakeRef) StatFile(ctx context.Context, req gwclient.StatRequest) (*fstypes.Stat, error) {
	p := strings.TrimPrefix(req.Path, "/")
	if p == "" {
		p = "."
	}
	info, err := fs.Stat(r.files, p)
	if err != nil {
		return nil, fmt.Errorf("stat %s: no such file or directory", req.Path)
	}
	return statOf(p, info), nil
}

func (r *fakeRef) ReadDir(ctx context.Context, req gwclient.ReadDirRequest) ([]*fstypes.Stat, error) {
	p := strings.TrimPrefix(req.Path, "/")
	if p == "" {
		p = "."
	}
	entries, err := fs.ReadDir(r.files, p)
	if err != nil {
		return nil, fmt.Errorf("readdir %s: no such file or directory", req.Path)
	}
	var out []*fstypes.Stat
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			return nil, err
		}
		out = append(out, statOf(path.Join(p, e.Name()), info))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

func statOf(p string, info fs.FileInfo) *fstypes.Stat {
	// As fsutil writes it: Go's os.FileMode.
	return &fstypes.Stat{Path: path.Base(p), Mode: uint32(info.Mode()), Size: info.Size()}
}
