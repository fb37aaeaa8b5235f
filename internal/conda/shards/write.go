package shards

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/klauspost/compress/zstd"
)

// ShardsDir is where a SubdirWriter puts the shards, relative to the
// subdir (the index's shards_base_url is "./" + ShardsDir + "/").
const ShardsDir = "shards"

// Form is which files a SubdirWriter writes.
type Form int

const (
	// Sharded is the CEP 16 index and shards.
	Sharded Form = 1 << iota
	// Monolithic is repodata.json and repodata.json.zst.
	Monolithic
)

// SubdirWriter writes one channel subdir, <dir>/<subdir>/, in one form
// or both (the same records in each). Records are added one
// package name at a time, names in ascending order, and streamed to
// staging files, so a channel of any size is written in little memory.
// The output is deterministic: the same records give the same bytes.
// Nothing appears in the subdir before Close; Abort (or a failed Close)
// leaves it as it was.
type SubdirWriter struct {
	dir, subdir string
	stage       string
	form        Form
	// parts stage repodata.json's "packages" and "packages.conda" maps.
	parts [2]*part
	index *Index
	last  string
}

type part struct {
	f *os.File
	w *bufio.Writer
	n int
}

// NewSubdirWriter starts writing dir/subdir (created if missing) in
// form (Sharded, Monolithic or both).
func NewSubdirWriter(dir, subdir string, form Form) (*SubdirWriter, error) {
	out := filepath.Join(dir, subdir)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	stage, err := os.MkdirTemp(out, ".envkit-index-")
	if err != nil {
		return nil, err
	}
	w := &SubdirWriter{dir: dir, subdir: subdir, stage: stage, form: form,
		index: &Index{Version: Version, Info: Info{BaseURL: "./", ShardsBaseURL: "./" + ShardsDir + "/", Subdir: subdir}, Shards: map[string]Sum{}}}
	if err := os.Mkdir(filepath.Join(stage, ShardsDir), 0o755); err != nil {
		w.Abort()
		return nil, err
	}
	if form&Monolithic != 0 {
		for i, name := range []string{"packages.part", "conda.part"} {
			f, err := os.Create(filepath.Join(stage, name))
			if err != nil {
				w.Abort()
				return nil, err
			}
			w.parts[i] = &part{f: f, w: bufio.NewWriterSize(f, 1<<20)}
		}
	}
	return w, nil
}

// Add writes the records of one package name (filename → record). Names
// must come in ascending order, each once.
func (w *SubdirWriter) Add(name string, records map[string]Raw) error {
	if name == "" {
		return errors.New("a record without a package name")
	}
	if name <= w.last {
		return fmt.Errorf("package %s added after %s: names must come in ascending order", name, w.last)
	}
	w.last = name
	if w.form&Sharded != 0 {
		zst, sum, err := EncodeShard(records, nil)
		if err != nil {
			return fmt.Errorf("package %s: %w", name, err)
		}
		w.index.Shards[name] = sum
		if err := os.WriteFile(filepath.Join(w.stage, ShardsDir, sum.File()), zst, 0o644); err != nil {
			return err
		}
	}
	if w.form&Monolithic == 0 {
		return nil
	}
	for _, fn := range slices.Sorted(maps.Keys(records)) {
		p := w.parts[0]
		if strings.HasSuffix(fn, ".conda") {
			p = w.parts[1]
		}
		if err := p.record(fn, records[fn]); err != nil {
			return fmt.Errorf("package %s: %s: %w", name, fn, err)
		}
	}
	return nil
}

// record writes `"fn": {...}` as one line of a repodata.json map.
func (p *part) record(fn string, rec Raw) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// Match specs are full of < and >: keep them readable.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(fn); err != nil {
		return err
	}
	key := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	sep := ",\n  "
	if p.n == 0 {
		sep = "\n  "
	}
	p.n++
	p.w.WriteString(sep)
	p.w.Write(key)
	p.w.WriteString(": ")
	buf.Reset()
	if err := enc.Encode(rec); err != nil {
		return err
	}
	_, err := p.w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	return err
}

// Close writes the index and repodata.json, then moves everything into
// the subdir: the shards directory replaced whole, the index last, so
// a reader never finds an index naming shards not yet there.
func (w *SubdirWriter) Close() error {
	err := w.finish()
	w.Abort()
	return err
}

func (w *SubdirWriter) finish() error {
	out := filepath.Join(w.dir, w.subdir)
	var files []string
	if w.form&Monolithic != 0 {
		if err := w.writeRepodata(); err != nil {
			return err
		}
		files = append(files, "repodata.json.zst", "repodata.json")
	}
	if w.form&Sharded == 0 {
		return move(w.stage, out, files)
	}
	if err := os.WriteFile(filepath.Join(w.stage, IndexFile), EncodeIndex(w.index), 0o644); err != nil {
		return err
	}
	shards := filepath.Join(out, ShardsDir)
	if err := os.Rename(shards, filepath.Join(w.stage, "old-shards")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.Rename(filepath.Join(w.stage, ShardsDir), shards); err != nil {
		return err
	}
	return move(w.stage, out, append(files, IndexFile))
}

// move renames files from one directory to another, in order.
func move(from, to string, files []string) error {
	for _, f := range files {
		if err := os.Rename(filepath.Join(from, f), filepath.Join(to, f)); err != nil {
			return err
		}
	}
	return nil
}

// writeRepodata joins the staged maps into repodata.json and compresses
// it into repodata.json.zst, both streamed.
func (w *SubdirWriter) writeRepodata() error {
	for _, p := range w.parts {
		if err := p.w.Flush(); err != nil {
			return err
		}
		if _, err := p.f.Seek(0, io.SeekStart); err != nil {
			return err
		}
	}
	f, err := os.Create(filepath.Join(w.stage, "repodata.json"))
	if err != nil {
		return err
	}
	defer f.Close()
	z, err := os.Create(filepath.Join(w.stage, "repodata.json.zst"))
	if err != nil {
		return err
	}
	defer z.Close()
	enc, err := zstd.NewWriter(z, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedDefault))
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(io.MultiWriter(f, enc), 1<<20)
	info, _ := json.Marshal(map[string]string{"subdir": w.subdir})
	fmt.Fprintf(bw, "{\n \"info\": %s,\n \"packages\": {", info)
	if _, err := io.Copy(bw, w.parts[0].f); err != nil {
		return err
	}
	bw.WriteString("\n },\n \"packages.conda\": {")
	if _, err := io.Copy(bw, w.parts[1].f); err != nil {
		return err
	}
	bw.WriteString("\n },\n \"removed\": [],\n \"repodata_version\": 1\n}\n")
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	if err := z.Close(); err != nil {
		return err
	}
	return f.Close()
}

// Abort removes the staging directory; the subdir keeps what it had.
func (w *SubdirWriter) Abort() {
	for _, p := range w.parts {
		if p != nil {
			p.f.Close()
		}
	}
	os.RemoveAll(w.stage)
}
