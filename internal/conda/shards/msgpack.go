package shards

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/envkit/envkit/internal/conda/repodata"
	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// maxDepth bounds the nesting of the values skipped (keys CEP 16 lets
// writers add): msgpack's own Skip recurses without a bound, and a
// shard of nested one-byte arrays would overflow the stack. It is
// repodata's bound, so a record nests as deep in either encoding.
const maxDepth = repodata.MaxDepth

// reader walks a msgpack document held in memory with the library's
// decoder, checking every declared length against the bytes left before
// anything is allocated: a 5-byte bin32 header must not cost 4 GiB (the
// library's DecodeBytes allocates what the header states).
type reader struct {
	data []byte
	in   *bytes.Reader
	d    *msgpack.Decoder
	// intern holds the strings that repeat across a shard's records
	// (names, depends, licenses): one copy each.
	intern map[string]string
}

func newReader(b []byte) *reader {
	in := bytes.NewReader(b)
	// A bytes.Reader is an io.ByteScanner: the decoder reads it directly,
	// without a buffer of its own, so in.Len() is what is left.
	return &reader{data: b, in: in, d: msgpack.NewDecoder(in), intern: map[string]string{}}
}

// kindOf names a msgpack type code in errors.
func kindOf(c byte) string {
	switch {
	case c == msgpcode.Nil:
		return "nil"
	case c == msgpcode.True || c == msgpcode.False:
		return "a boolean"
	case msgpcode.IsFixedNum(c), c >= msgpcode.Uint8 && c <= msgpcode.Int64:
		return "an integer"
	case c == msgpcode.Float || c == msgpcode.Double:
		return "a float"
	case msgpcode.IsString(c):
		return "a string"
	case msgpcode.IsBin(c):
		return "binary data"
	case msgpcode.IsFixedArray(c), c == msgpcode.Array16, c == msgpcode.Array32:
		return "an array"
	case msgpcode.IsFixedMap(c), c == msgpcode.Map16, c == msgpcode.Map32:
		return "a map"
	case msgpcode.IsExt(c):
		return "an extension"
	}
	return fmt.Sprintf("the unused code 0x%02x", c)
}

// truncated turns the decoder's end-of-input errors into one message.
func truncated(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("truncated msgpack data")
	}
	return err
}

func (r *reader) peek() (byte, error) {
	c, err := r.d.PeekCode()
	return c, truncated(err)
}

// null consumes a nil if one comes next.
func (r *reader) null() bool {
	c, err := r.d.PeekCode()
	if err == nil && c == msgpcode.Nil {
		r.in.ReadByte()
		return true
	}
	return false
}

func (r *reader) want(what, kind string, c byte) error {
	return fmt.Errorf("%s: want %s, got %s", what, kind, kindOf(c))
}

// mapLen reads a map header; nil is an empty map.
func (r *reader) mapLen(what string) (int, error) {
	if r.null() {
		return 0, nil
	}
	c, err := r.peek()
	if err != nil {
		return 0, err
	}
	if !msgpcode.IsFixedMap(c) && c != msgpcode.Map16 && c != msgpcode.Map32 {
		return 0, r.want(what, "a map", c)
	}
	n, err := r.d.DecodeMapLen()
	if err != nil {
		return 0, truncated(err)
	}
	if 2*n > r.in.Len() { // each key and value takes a byte at least
		return 0, fmt.Errorf("%s: a map of %d entries in %d bytes: truncated msgpack data", what, n, r.in.Len())
	}
	return n, nil
}

// arrayLen reads an array header; nil is an empty array.
func (r *reader) arrayLen(what string) (int, error) {
	if r.null() {
		return 0, nil
	}
	c, err := r.peek()
	if err != nil {
		return 0, err
	}
	if !msgpcode.IsFixedArray(c) && c != msgpcode.Array16 && c != msgpcode.Array32 {
		return 0, r.want(what, "an array", c)
	}
	n, err := r.d.DecodeArrayLen()
	if err != nil {
		return 0, truncated(err)
	}
	if n > r.in.Len() {
		return 0, fmt.Errorf("%s: an array of %d elements in %d bytes: truncated msgpack data", what, n, r.in.Len())
	}
	return n, nil
}

// raw returns the payload of a string or binary value (nil gives nil)
// as a slice of the input, after checking its length against what is
// left: nothing is copied.
func (r *reader) raw(what string, binary bool) ([]byte, error) {
	if r.null() {
		return nil, nil
	}
	c, err := r.peek()
	if err != nil {
		return nil, err
	}
	if !msgpcode.IsString(c) && !(binary && msgpcode.IsBin(c)) {
		kind := "a string"
		if binary {
			kind = "binary data or a string"
		}
		return nil, r.want(what, kind, c)
	}
	n, err := r.d.DecodeBytesLen()
	if err != nil {
		return nil, truncated(err)
	}
	if n > r.in.Len() {
		return nil, fmt.Errorf("%s: %d bytes stated, %d left: truncated msgpack data", what, n, r.in.Len())
	}
	pos := len(r.data) - r.in.Len()
	_, err = r.in.Seek(int64(n), io.SeekCurrent)
	return r.data[pos : pos+n : pos+n], err
}

func (r *reader) str(what string) (string, error) {
	b, err := r.raw(what, false)
	return string(b), err
}

// interned reads a string kept once per shard.
func (r *reader) interned(what string) (string, error) {
	b, err := r.raw(what, false)
	if err != nil || len(b) == 0 {
		return "", err
	}
	if s, ok := r.intern[string(b)]; ok {
		return s, nil
	}
	s := string(b)
	r.intern[s] = s
	return s, nil
}

// strList reads a list of strings; nil gives nil, an empty array an
// empty list (as repodata.json's reader gives for null and []).
func (r *reader) strList(what string) ([]string, error) {
	if r.null() {
		return nil, nil
	}
	n, err := r.arrayLen(what)
	if err != nil {
		return nil, err
	}
	list := make([]string, n)
	for i := range list {
		if list[i], err = r.interned(what); err != nil {
			return nil, err
		}
	}
	return list, nil
}

// digest reads a checksum of size bytes as lower-case hex: CEP 16
// writes raw bytes, earlier writers (conda-index's first shards) hex
// strings.
func (r *reader) digest(what string, size int) (string, error) {
	c, err := r.peek()
	if err != nil {
		return "", err
	}
	b, err := r.raw(what, true)
	switch {
	case err != nil || b == nil:
		return "", err
	case msgpcode.IsBin(c) && len(b) == size:
		return hex.EncodeToString(b), nil
	case msgpcode.IsString(c) && len(b) == 2*size:
		if _, err := hex.DecodeString(string(b)); err == nil {
			return string(bytes.ToLower(b)), nil
		}
	}
	return "", fmt.Errorf("%s: want %d bytes (or %d hex digits), got %d bytes %q", what, size, 2*size, len(b), b)
}

func (r *reader) integer(what string) (int64, error) {
	if r.null() {
		return 0, nil
	}
	c, err := r.peek()
	if err != nil {
		return 0, err
	}
	if !msgpcode.IsFixedNum(c) && (c < msgpcode.Uint8 || c > msgpcode.Int64) {
		return 0, r.want(what, "an integer", c)
	}
	n, err := r.d.DecodeInt64()
	return n, truncated(err)
}

// number reads an integer or a float as a float.
func (r *reader) number(what string) (float64, error) {
	if r.null() {
		return 0, nil
	}
	c, err := r.peek()
	if err != nil {
		return 0, err
	}
	if c != msgpcode.Float && c != msgpcode.Double && !msgpcode.IsFixedNum(c) && (c < msgpcode.Uint8 || c > msgpcode.Int64) {
		return 0, r.want(what, "a number", c)
	}
	f, err := r.d.DecodeFloat64()
	return f, truncated(err)
}

// skip passes over one value of any type, nested at most maxDepth deep.
func (r *reader) skip(depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("values nested more than %d deep", maxDepth)
	}
	c, err := r.peek()
	if err != nil {
		return err
	}
	switch {
	case msgpcode.IsFixedMap(c), c == msgpcode.Map16, c == msgpcode.Map32:
		n, err := r.mapLen("value")
		for i := 0; err == nil && i < 2*n; i++ {
			err = r.skip(depth + 1)
		}
		return err
	case msgpcode.IsFixedArray(c), c == msgpcode.Array16, c == msgpcode.Array32:
		n, err := r.arrayLen("value")
		for i := 0; err == nil && i < n; i++ {
			err = r.skip(depth + 1)
		}
		return err
	case msgpcode.IsString(c), msgpcode.IsBin(c):
		_, err := r.raw("value", true)
		return err
	}
	// Scalars and extensions: fixed or stated sizes, no nesting; the
	// library reads them through its bounded-growth buffer.
	return truncated(r.d.Skip())
}

// end checks that the document is over.
func (r *reader) end() error {
	if n := r.in.Len(); n > 0 {
		return fmt.Errorf("%d bytes after the msgpack document", n)
	}
	return nil
}
