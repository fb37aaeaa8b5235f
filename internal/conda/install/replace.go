package install

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"path"
	"strings"
	"sync"
)

// DefaultPlaceholder is the prefix placeholder of packages that name none
// (info/has_prefix lines without one). It is built from parts so that this
// binary, when itself packaged, is never relocated.
var DefaultPlaceholder = "/opt/anaconda1anaconda2" + "anaconda3"

// maxShebang is Linux's limit on a shebang line (conda's
// MAX_SHEBANG_LENGTH on Linux).
const maxShebang = 127

// chunk is how much of a file replacement holds at a time: files with
// placeholders run to gigabytes (libraries with binary placeholders), and
// a crafted one must not take memory in proportion to its size.
const chunk = 64 << 10

// maxShebangLine bounds the first line the shebang rule looks at; a longer
// one is no working shebang (the kernel reads 256 bytes) and is only
// replaced like the rest.
const maxShebangLine = 64 << 10

// scratch is the memory of one replacement, pooled: linking replaces in
// every file with a placeholder, often thousands of small ones.
type scratch struct {
	br  *bufio.Reader
	bw  *bufio.Writer
	buf []byte // one chunk and the bytes that could begin a placeholder
}

var scratches = sync.Pool{New: func() any {
	return &scratch{br: bufio.NewReaderSize(nil, maxShebangLine), bw: bufio.NewWriterSize(nil, chunk), buf: make([]byte, 2*chunk)}
}}

// getScratch is a scratch writing to w, for a placeholder of n bytes.
func getScratch(w io.Writer, n int) *scratch {
	s := scratches.Get().(*scratch)
	s.bw.Reset(w)
	if len(s.buf) < chunk+n {
		s.buf = make([]byte, chunk+n)
	}
	return s
}

func (s *scratch) release() {
	s.br.Reset(nil)
	s.bw.Reset(nil)
	scratches.Put(s)
}

// ReplaceText copies r to w with every occurrence of placeholder replaced
// by prefix, after applying conda's shebang rule: when the first line is
// "#!" with an interpreter inside the placeholder, and with the new prefix
// that line would be longer than 127 bytes or the prefix contains a space,
// the line becomes "#!/usr/bin/env <interpreter name><arguments>". It
// streams: memory stays bounded whatever the size of the file.
func ReplaceText(w io.Writer, r io.Reader, placeholder, prefix string) error {
	s := getScratch(w, len(placeholder))
	defer s.release()
	s.br.Reset(r)
	head, err := s.br.Peek(maxShebangLine)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return err
	}
	src := io.Reader(s.br)
	if exe, args, end, ok := shebang(head); ok && (end < len(head) || err == io.EOF) && bytes.HasPrefix(exe, []byte(placeholder+"/")) {
		newLen := end - len(placeholder) + len(prefix)
		if newLen > maxShebang || strings.Contains(prefix, " ") {
			line := envShebang(exe, args)
			if _, err := s.br.Discard(end); err != nil {
				return err
			}
			src = io.MultiReader(bytes.NewReader(line), s.br)
		}
	}
	return s.replaceAll(src, []byte(placeholder), []byte(prefix))
}

// replaceAll is bytes.ReplaceAll over a stream: it holds one chunk and the
// len(old)-1 bytes before it that could begin a match.
func (s *scratch) replaceAll(r io.Reader, old, new []byte) error {
	bw, buf := s.bw, s.buf[:chunk+len(old)]
	keep := 0
	for {
		n, rerr := io.ReadAtLeast(r, buf[keep:], 1)
		if rerr != nil && rerr != io.EOF {
			return rerr
		}
		data := buf[:keep+n]
		for {
			i := bytes.Index(data, old)
			if i < 0 {
				break
			}
			bw.Write(data[:i])
			bw.Write(new)
			data = data[i+len(old):]
		}
		if rerr == io.EOF {
			bw.Write(data)
			return bw.Flush()
		}
		keep = min(len(data), len(old)-1)
		bw.Write(data[:len(data)-keep])
		copy(buf, data[len(data)-keep:])
	}
}

// shebang splits a "#!interpreter args" first line; end is its length.
func shebang(data []byte) (exe, args []byte, end int, ok bool) {
	if !bytes.HasPrefix(data, []byte("#!")) {
		return nil, nil, 0, false
	}
	end = bytes.IndexByte(data, '\n')
	if end < 0 {
		end = len(data)
	}
	rest := bytes.TrimLeft(data[2:end], " ")
	// The interpreter runs to the first unescaped blank ("\ " keeps a
	// space in the path, as conda's SHEBANG_REGEX allows).
	i := 0
	for i < len(rest) {
		if rest[i] == '\\' && i+1 < len(rest) && rest[i+1] == ' ' {
			i += 2
			continue
		}
		if rest[i] == ' ' || rest[i] == '\t' || rest[i] == '\r' {
			break
		}
		i++
	}
	if i == 0 || rest[0] != '/' {
		return nil, nil, 0, false
	}
	return rest[:i], rest[i:], end, true
}

// envShebang is the first line "#!/usr/bin/env NAME ARGS" (without its
// newline, which stays with the rest).
func envShebang(exe, args []byte) []byte {
	var b bytes.Buffer
	b.WriteString("#!/usr/bin/env ")
	b.Write(exe[bytes.LastIndexByte(exe, '/')+1:])
	b.Write(args)
	return b.Bytes()
}

// entryPointShebang is "#!<python>", or the env form under the same rule.
func entryPointShebang(python string) string {
	line := "#!" + python
	if len(line) > maxShebang || strings.Contains(python, " ") {
		return "#!/usr/bin/env " + path.Base(python)
	}
	return line
}

// PaddingError reports a binary placeholder shorter than the new prefix.
type PaddingError struct {
	Placeholder, Prefix string
}

func (e *PaddingError) Error() string {
	return fmt.Sprintf("prefix %q (%d bytes) is longer than the package's binary placeholder (%d bytes); choose a prefix of at most %d bytes",
		e.Prefix, len(e.Prefix), len(e.Placeholder), len(e.Placeholder))
}

// ReplaceBinary copies r to w rewriting each NUL-terminated string that
// contains placeholder (the string runs from the placeholder to the next
// NUL, or the end of the data): every occurrence in it is replaced by
// prefix and the string padded with NUL bytes to its old length, so
// offsets in the binary do not move. A prefix longer than the placeholder
// cannot fit and is an error. It streams, as ReplaceText does.
func ReplaceBinary(w io.Writer, r io.Reader, placeholder, prefix string) error {
	ph, pre := []byte(placeholder), []byte(prefix)
	if len(ph) == 0 {
		_, err := io.Copy(w, r)
		return err
	}
	if bytes.IndexByte(ph, 0) >= 0 {
		return fmt.Errorf("binary placeholder %q holds a NUL byte", placeholder)
	}
	s := getScratch(w, len(ph))
	defer s.release()
	bw, buf := s.bw, s.buf[:chunk+len(ph)]
	keep := 0
	inString := false // after a placeholder, before the NUL that ends its string
	var pad int64     // NULs the current string owes
	padOut := func() {
		for ; pad > 0; pad-- {
			bw.WriteByte(0)
		}
	}
	for {
		n, rerr := io.ReadAtLeast(r, buf[keep:], 1)
		if rerr != nil && rerr != io.EOF {
			return rerr
		}
		data := buf[:keep+n]
		for {
			i := bytes.Index(data, ph)
			if inString {
				if nul := bytes.IndexByte(data, 0); nul >= 0 && (i < 0 || nul < i) {
					bw.Write(data[:nul])
					padOut()
					inString = false
					data = data[nul:]
					continue
				}
			}
			if i < 0 {
				break
			}
			if len(pre) > len(ph) {
				return &PaddingError{placeholder, prefix}
			}
			bw.Write(data[:i])
			bw.Write(pre)
			pad += int64(len(ph) - len(pre))
			inString = true
			data = data[i+len(ph):]
		}
		if rerr == io.EOF {
			bw.Write(data)
			padOut()
			return bw.Flush()
		}
		keep = min(len(data), len(ph)-1)
		bw.Write(data[:len(data)-keep])
		copy(buf, data[len(data)-keep:])
	}
}
