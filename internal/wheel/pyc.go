package wheel

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path"
	"slices"
	"strings"
)

// compileScript reads (dfile, source) pairs from stdin and answers each
// with one .pyc, empty when the source does not compile, after a first
// line holding the interpreter's cache tag. It makes exactly what
// py_compile makes in unchecked-hash mode, but python touches no file:
// the sources come from, and the .pyc go to, an os.Root on the Go side.
const compileScript = `import importlib._bootstrap_external as be, importlib.util, struct, sys
inp, out = sys.stdin.buffer, sys.stdout.buffer
out.write(sys.implementation.cache_tag.encode() + b"\n")
out.flush()
while True:
    head = inp.read(8)
    if len(head) < 8:
        break
    n, m = struct.unpack("<II", head)
    dfile = inp.read(n).decode("utf-8", "surrogateescape")
    source = inp.read(m)
    if len(source) < m:
        break
    try:
        code = compile(source, dfile, "exec", dont_inherit=True, optimize=0)
        pyc = be._code_to_hash_pyc(code, importlib.util.source_hash(source), False)
    except Exception:
        pyc = b""
    out.write(struct.pack("<I", len(pyc)) + pyc)
    out.flush()
`

// Pyc is one compiled file.
type Pyc struct {
	// Source and Path are the .py and its .pyc, relative to the root.
	Source, Path string
	SHA256       [sha256.Size]byte
	Size         int64
}

// maxPyc bounds one .pyc read back from python.
const maxPyc = 1 << 30

// CompileFiles compiles the .py files srcs (relative to root) with python
// into DIR/__pycache__/STEM.TAG.pyc beside each (PEP 3147), each naming
// dfile(src) as its source path. The .pyc are reproducible: unchecked-hash
// mode embeds a hash of the source instead of its mtime,
// PYTHONHASHSEED=0 fixes the order in which marshal writes sets, and the
// code is compiled unoptimized, as the .pyc's name says, whatever
// PYTHONOPTIMIZE or -O the environment sets. A source
// that does not compile (templates, code for other versions) gets no .pyc,
// as with pip; only a python that cannot run fails. env is python's
// environment (os.Environ when nil). Every read and write goes through
// root, so no link in the tree can send a .pyc elsewhere.
func CompileFiles(python string, env []string, root *os.Root, srcs []string, dfile func(string) string) ([]Pyc, error) {
	if len(srcs) == 0 {
		return nil, nil
	}
	if env == nil {
		env = os.Environ()
	}
	cmd := exec.Command(python, "-Wi", "-c", compileScript)
	// The base's or the user's PYTHON* settings stay out: PYTHONOPTIMIZE
	// would put -O bytecode under the plain .pyc name, PYTHONPATH or
	// PYTHONHOME could change the python that compiles.
	cmd.Env = append(slices.DeleteFunc(slices.Clone(env), func(kv string) bool {
		return strings.HasPrefix(kv, "PYTHON")
	}), "PYTHONHASHSEED=0")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		if _, statErr := os.Stat(python); errors.Is(err, fs.ErrNotExist) && statErr == nil {
			// The file is there: what is missing is its ELF interpreter.
			return nil, fmt.Errorf("compiling .pyc: %s is there but cannot run: the system's dynamic loader it needs (glibc's) is missing; the base image must be able to run the environment's python (busybox, distroless static and alpine cannot run conda's): choose a glibc base such as debian or ubuntu", python)
		}
		return nil, fmt.Errorf("compiling .pyc with %s: %v", python, err)
	}
	fed := make(chan error, 1)
	go func() {
		fed <- feedSources(stdin, root, srcs, dfile)
		stdin.Close()
	}()
	pycs, readErr := writePycs(bufio.NewReader(stdout), root, srcs)
	if readErr != nil {
		cmd.Process.Kill()
	}
	io.Copy(io.Discard, stdout)
	feedErr := <-fed
	waitErr := cmd.Wait()
	// A .pyc we could not write is ours to report (python was stopped for
	// it); then python's own failure, which explains a pipe it closed; then
	// a source we could not read (python, cut short, compiles nothing).
	switch {
	case errors.Is(readErr, errWrite):
		return nil, readErr
	case waitErr != nil:
		return nil, fmt.Errorf("compiling .pyc with %s: %v\n%s", python, waitErr, stderr.String())
	case feedErr != nil:
		return nil, feedErr
	case readErr != nil:
		return nil, fmt.Errorf("compiling .pyc with %s: %v", python, readErr)
	}
	return pycs, nil
}

// feedSources writes each source as (len dfile, len source, dfile,
// source), little-endian lengths, streamed from root.
func feedSources(w io.Writer, root *os.Root, srcs []string, dfile func(string) string) error {
	bw := bufio.NewWriter(w)
	for _, src := range srcs {
		f, err := root.Open(src)
		if err != nil {
			return err
		}
		st, err := f.Stat()
		if err == nil && st.Size() > math.MaxUint32 {
			err = fmt.Errorf("%s: a source of %d bytes", src, st.Size())
		}
		if err != nil {
			f.Close()
			return err
		}
		name := dfile(src)
		var head [8]byte
		binary.LittleEndian.PutUint32(head[:4], uint32(len(name)))
		binary.LittleEndian.PutUint32(head[4:], uint32(st.Size()))
		bw.Write(head[:])
		bw.WriteString(name)
		_, err = io.CopyN(bw, f, st.Size())
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", src, err)
		}
	}
	bw.Flush()
	return nil
}

// errWrite marks a failure to write a .pyc (not python's).
var errWrite = errors.New("writing .pyc")

// writePycs reads python's answers and writes the .pyc under root.
func writePycs(r *bufio.Reader, root *os.Root, srcs []string) ([]Pyc, error) {
	tag, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	tag = strings.TrimSuffix(tag, "\n")
	var out []Pyc
	for _, src := range srcs {
		var head [4]byte
		if _, err := io.ReadFull(r, head[:]); err != nil {
			return nil, err
		}
		n := binary.LittleEndian.Uint32(head[:])
		if n > maxPyc {
			return nil, fmt.Errorf("%s: a .pyc of %d bytes", src, n)
		}
		data := make([]byte, n)
		if _, err := io.ReadFull(r, data); err != nil {
			return nil, err
		}
		if n == 0 {
			continue
		}
		stem := strings.TrimSuffix(path.Base(src), ".py")
		p := path.Join(path.Dir(src), "__pycache__", stem+"."+tag+".pyc")
		if err := writePyc(root, src, p, data); err != nil {
			return nil, fmt.Errorf("%w %s: %v", errWrite, p, err)
		}
		out = append(out, Pyc{Source: src, Path: p, SHA256: sha256.Sum256(data), Size: int64(n)})
	}
	return out, nil
}

// writePyc replaces p with data, with the source's permission bits
// (as py_compile gives them) whatever the umask.
func writePyc(root *os.Root, src, p string, data []byte) error {
	st, err := root.Stat(src)
	if err != nil {
		return err
	}
	if err := root.MkdirAll(path.Dir(p), 0o755); err != nil {
		return err
	}
	if err := root.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	f, err := root.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Chmod(st.Mode().Perm() & 0o666); err == nil {
		err = cerr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
