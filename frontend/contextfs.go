package frontend

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerui"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	fstypes "github.com/tonistiigi/fsutil/types"
)

// contextFS reads the build context through the gateway as an fs.FS, so
// that spec.Parse reads the files a definition references (conda file,
// lock, Dockerfile, COPY sources) from the context, never from the host.
// Each first access transfers only the path asked for (FollowPaths); a
// directory's transfer then serves everything beneath it.
type contextFS struct {
	ctx context.Context
	c   gwclient.Client
	bc  *dockerui.Client

	mu   sync.Mutex
	refs map[string]gwclient.Reference // transferred path -> its ref
}

func newContextFS(ctx context.Context, c gwclient.Client, bc *dockerui.Client) *contextFS {
	return &contextFS{ctx: ctx, c: c, bc: bc, refs: map[string]gwclient.Reference{}}
}

func (f *contextFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	ref, err := f.ref(name)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return openRef(f.ctx, ref, name)
}

// refFS reads one solved reference, a git context's tree, as an fs.FS.
type refFS struct {
	ctx context.Context
	ref gwclient.Reference
}

func (f *refFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	return openRef(f.ctx, f.ref, name)
}

// openRef opens name in ref through the gateway.
func openRef(ctx context.Context, ref gwclient.Reference, name string) (fs.File, error) {
	st, err := ref.StatFile(ctx, gwclient.StatRequest{Path: name})
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: notExist(err)}
	}
	info := fileInfo{st: st, name: path.Base(name)}
	if info.IsDir() {
		return &contextDir{ctx: ctx, ref: ref, path: name, info: info}, nil
	}
	if info.Size() > maxRead {
		// Larger than one gateway read (BuildKit refuses 16 MiB): read in
		// ranges as the caller reads, never whole (a wheel file beside the
		// definition may be gigabytes).
		return &rangedFile{Reader: bufio.NewReaderSize(&rangeReader{ctx: ctx, ref: ref, name: name, size: info.Size()}, maxRead), info: info}, nil
	}
	data, err := ref.ReadFile(ctx, gwclient.ReadRequest{Filename: name})
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: notExist(err)}
	}
	return &contextFile{Reader: bytes.NewReader(data), info: info}, nil
}

// rangeReader reads a file of ref from the start, at most maxRead bytes a
// call.
type rangeReader struct {
	ctx       context.Context
	ref       gwclient.Reference
	name      string
	off, size int64
}

func (r *rangeReader) Read(p []byte) (int, error) {
	n := min(int64(len(p)), maxRead, r.size-r.off)
	if n <= 0 {
		return 0, io.EOF
	}
	data, err := r.ref.ReadFile(r.ctx, gwclient.ReadRequest{Filename: r.name, Range: &gwclient.FileRange{Offset: int(r.off), Length: int(n)}})
	if err != nil {
		return 0, &fs.PathError{Op: "read", Path: r.name, Err: notExist(err)}
	}
	if len(data) == 0 {
		return 0, &fs.PathError{Op: "read", Path: r.name, Err: fmt.Errorf("the read stopped at %d of %d bytes", r.off, r.size)}
	}
	c := copy(p, data)
	r.off += int64(c)
	return c, nil
}

type rangedFile struct {
	*bufio.Reader
	info fileInfo
}

func (f *rangedFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *rangedFile) Close() error               { return nil }

// ref returns a solved context holding name: a transfer of name or of one
// of its parent directories.
func (f *contextFS) ref(name string) (gwclient.Reference, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for p := name; ; p = path.Dir(p) {
		if ref, ok := f.refs[p]; ok {
			return ref, nil
		}
		if p == "." {
			break
		}
	}
	var opts []llb.LocalOption
	if name != "." {
		opts = append(opts, llb.FollowPaths([]string{name}))
	}
	st, err := f.bc.MainContext(f.ctx, opts...)
	if err != nil {
		return nil, err
	}
	def, err := st.Marshal(f.ctx)
	if err != nil {
		return nil, err
	}
	res, err := f.c.Solve(f.ctx, gwclient.SolveRequest{Definition: def.ToPB(), CacheImports: f.bc.CacheImports})
	if err != nil {
		return nil, err
	}
	ref, err := res.SingleRef()
	if err != nil {
		return nil, err
	}
	if ref == nil {
		return nil, fmt.Errorf("the build context is empty")
	}
	f.refs[name] = ref
	return ref, nil
}

// notExist maps the gateway's "no such file" (it crosses gRPC as text) to
// fs.ErrNotExist, which callers test for.
func notExist(err error) error {
	if errors.Is(err, fs.ErrNotExist) || strings.Contains(err.Error(), "no such file or directory") || strings.Contains(err.Error(), "not found") {
		return fs.ErrNotExist
	}
	return err
}

type fileInfo struct {
	st   *fstypes.Stat
	name string
}

func (i fileInfo) Name() string { return i.name }
func (i fileInfo) Size() int64  { return i.st.Size }

// Mode is the stat's mode as it is: fsutil's Stat.Mode is Go's
// os.FileMode (fsutil.mkstat), directory bit included.
func (i fileInfo) Mode() fs.FileMode  { return fs.FileMode(i.st.Mode) }
func (i fileInfo) ModTime() time.Time { return time.Unix(0, i.st.ModTime) }
func (i fileInfo) IsDir() bool        { return i.Mode().IsDir() }
func (i fileInfo) Sys() any           { return i.st }

type contextFile struct {
	*bytes.Reader
	info fileInfo
}

func (f *contextFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *contextFile) Close() error               { return nil }

type contextDir struct {
	ctx     context.Context
	ref     gwclient.Reference
	path    string
	info    fileInfo
	entries []fs.DirEntry
	read    bool
}

func (d *contextDir) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *contextDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.path, Err: errors.New("is a directory")}
}
func (d *contextDir) Close() error { return nil }

func (d *contextDir) ReadDir(n int) ([]fs.DirEntry, error) {
	if !d.read {
		d.read = true
		sts, err := d.ref.ReadDir(d.ctx, gwclient.ReadDirRequest{Path: d.path})
		if err != nil {
			return nil, &fs.PathError{Op: "readdir", Path: d.path, Err: notExist(err)}
		}
		for _, st := range sts {
			d.entries = append(d.entries, fs.FileInfoToDirEntry(fileInfo{st: st, name: path.Base(st.Path)}))
		}
	}
	if n <= 0 {
		out := d.entries
		d.entries = nil
		return out, nil
	}
	if len(d.entries) == 0 {
		return nil, io.EOF
	}
	if n > len(d.entries) {
		n = len(d.entries)
	}
	out := d.entries[:n]
	d.entries = d.entries[n:]
	return out, nil
}
