package repodata

import (
	"bytes"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// decoder reads repodata JSON in one pass straight into Records. It is
// what makes loading fast (encoding/json scans the input twice and
// reflects on every field; see BenchmarkParse): it knows the few keys
// envkit keeps, skips the rest with a validating skip, and interns the
// strings that repeat across thousands of records (depends, licenses,
// names). TestDecoderMatchesEncodingJSON holds it to encoding/json's
// results on all conformance data; FuzzParse to never accept invalid JSON.
type decoder struct {
	data   []byte
	pos    int
	depth  int // objects and arrays open around pos
	intern map[string]string
	// newer is set by a record with record_version > 1.
	newer bool
}

// syntaxError is a decoding error at a byte offset.
type syntaxError struct {
	offset int
	msg    string
}

func (e *syntaxError) Error() string { return e.msg }

func newDecoder(data []byte) *decoder {
	return &decoder{data: data, intern: make(map[string]string, 1024)}
}

func (d *decoder) fail(format string, args ...any) error {
	return &syntaxError{offset: d.pos, msg: fmt.Sprintf(format, args...)}
}

func (d *decoder) ws() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, 0 at the end.
func (d *decoder) peek() byte {
	d.ws()
	if d.pos >= len(d.data) {
		return 0
	}
	return d.data[d.pos]
}

func (d *decoder) expect(c byte) error {
	if d.peek() != c {
		return d.unexpected(fmt.Sprintf("%q", c))
	}
	d.pos++
	return nil
}

func (d *decoder) unexpected(want string) error {
	if d.pos >= len(d.data) {
		return d.fail("unexpected end of JSON input, want %s", want)
	}
	return d.fail("invalid character %q, want %s", d.data[d.pos], want)
}

// literal consumes null, true or false if it comes next.
func (d *decoder) literal(word string) bool {
	if bytes.HasPrefix(d.data[d.pos:], []byte(word)) {
		d.pos += len(word)
		return true
	}
	return false
}

func (d *decoder) null() bool {
	return d.peek() == 'n' && d.literal("null")
}

// object calls field for each key of an object; field must consume the
// value.
func (d *decoder) object(field func(key []byte) error) error {
	return d.elements('{', '}', func() error {
		key, err := d.rawString()
		if err != nil {
			return err
		}
		if err := d.expect(':'); err != nil {
			return err
		}
		return field(key)
	})
}

// array calls elem for each element; elem must consume it.
func (d *decoder) array(elem func() error) error {
	return d.elements('[', ']', elem)
}

// MaxDepth bounds how deeply repodata's values nest, for every decoder
// of it. Decoders follow nesting by recursion: 10⁷ nested "[" overflowed
// the stack, a fatal error no recover catches. It is encoding/json's
// limit, so the one-pass decoder and Record.UnmarshalJSON accept the same
// files (repodata nests four or five levels).
const MaxDepth = 10000

// elements reads open, then comma-separated elements through elem, then
// close: the frame objects and arrays share.
func (d *decoder) elements(open, close byte, elem func() error) error {
	if err := d.expect(open); err != nil {
		return err
	}
	if d.depth == MaxDepth {
		return &syntaxError{d.pos - 1, fmt.Sprintf("nested deeper than %d levels", MaxDepth)}
	}
	d.depth++
	defer func() { d.depth-- }()
	if d.peek() == close {
		d.pos++
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.pos++
		case close:
			d.pos++
			return nil
		default:
			return d.unexpected(`"," or "` + string(close) + `"`)
		}
	}
}

// rawString returns a string's decoded bytes; they alias the input when
// the string has no escapes and is valid UTF-8.
func (d *decoder) rawString() ([]byte, error) {
	if d.peek() != '"' {
		return nil, d.unexpected("a string")
	}
	d.pos++
	start := d.pos
	plain := true
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			s := d.data[start:d.pos]
			d.pos++
			if plain {
				return s, nil
			}
			return d.unescape(s, start)
		case c == '\\':
			plain = false
			d.pos += 2
		case c < 0x20:
			return nil, d.fail("invalid control character %q in string", c)
		case c >= utf8.RuneSelf:
			plain = false
			d.pos++
		default:
			d.pos++
		}
	}
	d.pos = len(d.data)
	return nil, d.fail("unexpected end of JSON input in a string")
}

// unescape decodes escapes and replaces invalid UTF-8 bytes with U+FFFD,
// as encoding/json does.
func (d *decoder) unescape(s []byte, start int) ([]byte, error) {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\':
			if i+1 >= len(s) {
				return nil, &syntaxError{start + i, "invalid escape at the end of a string"}
			}
			switch e := s[i+1]; e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r, ok := hex4(s[i+2:])
				if !ok {
					return nil, &syntaxError{start + i, `invalid \u escape`}
				}
				i += 6
				if utf16.IsSurrogate(r) {
					// A pair is one character; a lone half is U+FFFD, and
					// what follows it is read on its own.
					r2, ok := hex4(s[min(i+2, len(s)):])
					if dec := utf16.DecodeRune(r, r2); ok && bytes.HasPrefix(s[i:], []byte(`\u`)) && dec != utf8.RuneError {
						out = utf8.AppendRune(out, dec)
						i += 6
						continue
					}
					r = utf8.RuneError
				}
				out = utf8.AppendRune(out, r)
				continue
			default:
				return nil, &syntaxError{start + i, fmt.Sprintf("invalid escape %q", "\\"+string(e))}
			}
			i += 2
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, size := utf8.DecodeRune(s[i:])
			if r == utf8.RuneError && size == 1 {
				out = utf8.AppendRune(out, utf8.RuneError)
			} else {
				out = append(out, s[i:i+size]...)
			}
			i += size
		}
	}
	return out, nil
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	v, err := strconv.ParseUint(string(b[:4]), 16, 32)
	return rune(v), err == nil
}

// str reads a string or null ("").
func (d *decoder) str() (string, error) {
	if d.null() {
		return "", nil
	}
	b, err := d.rawString()
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// interned reads a string or null, sharing equal strings.
func (d *decoder) interned() (string, error) {
	if d.null() {
		return "", nil
	}
	b, err := d.rawString()
	if err != nil {
		return "", err
	}
	if s, ok := d.intern[string(b)]; ok { // no allocation for the lookup
		return s, nil
	}
	s := string(b)
	d.intern[s] = s
	return s, nil
}

// strList reads an array of strings (null elements are "") or null.
func (d *decoder) strList() ([]string, error) {
	if d.null() {
		return nil, nil
	}
	out := []string{}
	err := d.array(func() error {
		s, err := d.interned()
		out = append(out, s)
		return err
	})
	return out, err
}

// number returns the bytes of a JSON number.
func (d *decoder) number() ([]byte, error) {
	d.ws()
	start := d.pos
	p := d.pos
	digits := func() int {
		n := 0
		for p < len(d.data) && d.data[p] >= '0' && d.data[p] <= '9' {
			p++
			n++
		}
		return n
	}
	if p < len(d.data) && d.data[p] == '-' {
		p++
	}
	if p < len(d.data) && d.data[p] == '0' {
		p++
	} else if digits() == 0 {
		return nil, d.unexpected("a number")
	}
	if p < len(d.data) && d.data[p] == '.' {
		p++
		if digits() == 0 {
			d.pos = p
			return nil, d.unexpected("a digit")
		}
	}
	if p < len(d.data) && (d.data[p] == 'e' || d.data[p] == 'E') {
		p++
		if p < len(d.data) && (d.data[p] == '+' || d.data[p] == '-') {
			p++
		}
		if digits() == 0 {
			d.pos = p
			return nil, d.unexpected("a digit")
		}
	}
	d.pos = p
	return d.data[start:p], nil
}

// integer reads an integer or null (0).
func (d *decoder) integer(what string) (int64, error) {
	if d.null() {
		return 0, nil
	}
	start := d.pos
	b, err := d.number()
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return 0, &syntaxError{start, fmt.Sprintf("%s: %s is not an integer", what, b)}
	}
	return n, nil
}

// float reads a number or null (0).
func (d *decoder) float(what string) (float64, error) {
	if d.null() {
		return 0, nil
	}
	start := d.pos
	b, err := d.number()
	if err != nil {
		return 0, err
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return 0, &syntaxError{start, fmt.Sprintf("%s: %s out of range", what, b)}
	}
	return f, nil
}

// skip consumes any value, checking its syntax.
func (d *decoder) skip() error {
	switch d.peek() {
	case '{':
		return d.object(func([]byte) error { return d.skip() })
	case '[':
		return d.array(d.skip)
	case '"':
		_, err := d.rawString()
		return err
	case 't':
		if d.literal("true") {
			return nil
		}
	case 'f':
		if d.literal("false") {
			return nil
		}
	case 'n':
		if d.literal("null") {
			return nil
		}
	default:
		_, err := d.number()
		return err
	}
	return d.unexpected("a value")
}

// end checks that only white space follows the top-level value.
func (d *decoder) end() error {
	if d.ws(); d.pos < len(d.data) { // not peek: a NUL byte is no end
		return d.unexpected("the end of the input")
	}
	return nil
}

// record decodes one package record (null gives a zero record).
// document walks a repodata.json object to the end of the input: info,
// repodata_version and removed into their places, each of packages and
// packages.conda to records (conda true for the latter), other keys
// skipped. Parse and Scan differ only in what they do with the records.
func (d *decoder) document(info *Info, version *int, removed *[]string, records func(conda bool) error) error {
	var err error
	if !d.null() {
		err = d.object(func(key []byte) error {
			switch string(key) {
			case "info":
				return d.info(info)
			case "repodata_version":
				n, err := d.integer("repodata_version")
				*version = int(n)
				return err
			case "packages":
				return records(false)
			case "packages.conda":
				return records(true)
			case "removed":
				list, err := d.strList()
				*removed = append(*removed, list...)
				return err
			}
			return d.skip()
		})
	}
	if err == nil {
		err = d.end()
	}
	return err
}

func (d *decoder) record() (Record, error) {
	var r Record
	if d.null() {
		return r, nil
	}
	var ts float64
	err := d.object(func(key []byte) error {
		var err error
		switch string(key) {
		case "record_version":
			var v int64
			if v, err = d.integer("record_version"); v > 1 {
				d.newer = true
			}
		case "name":
			r.Name, err = d.interned()
		case "version":
			r.Version, err = d.interned()
		case "build":
			r.Build, err = d.str()
		case "build_number":
			r.BuildNumber, err = d.integer("build_number")
		case "depends":
			r.Depends, err = d.strList()
		case "constrains":
			r.Constrains, err = d.strList()
		case "track_features":
			r.TrackFeatures, err = d.trackFeatures()
		case "features":
			r.Features, err = d.interned()
		case "license":
			r.License, err = d.interned()
		case "license_family":
			r.LicenseFamily, err = d.interned()
		case "md5":
			r.MD5, err = d.str()
		case "sha256":
			r.SHA256, err = d.str()
		case "size":
			r.Size, err = d.integer("size")
		case "subdir":
			r.Subdir, err = d.interned()
		case "timestamp":
			ts, err = d.float("timestamp")
		case "noarch":
			r.Noarch, err = d.noarch()
		case "fn":
			r.Filename, err = d.str()
		case "url":
			r.URL, err = d.str()
		case "channel":
			r.Channel, err = d.interned()
		default:
			err = d.skip()
		}
		return err
	})
	r.Timestamp = TimestampMillis(ts)
	return r, err
}

// trackFeatures reads a space/comma-separated string or a list.
func (d *decoder) trackFeatures() ([]string, error) {
	switch d.peek() {
	case '"':
		s, err := d.interned()
		if err != nil {
			return nil, err
		}
		return SplitFeatures(s), nil
	case '[', 'n':
		return d.strList()
	}
	return nil, d.fail("track_features: want a string or a list")
}

// noarch reads "generic"/"python", a legacy boolean (true is generic) or
// null.
func (d *decoder) noarch() (string, error) {
	switch d.peek() {
	case '"', 'n':
		return d.interned()
	case 't':
		if d.literal("true") {
			return "generic", nil
		}
	case 'f':
		if d.literal("false") {
			return "", nil
		}
	}
	return "", d.fail("noarch: want a string or a boolean")
}

// records decodes a filename → record object (or null), calling add.
func (d *decoder) records(add func(fn string, r Record) error) error {
	if d.null() {
		return nil
	}
	return d.object(func(key []byte) error {
		fn := string(key)
		d.newer = false
		r, err := d.record()
		if err != nil {
			return fmt.Errorf("package %s: %w", fn, err)
		}
		if d.newer {
			// A record_version above 1 announces fields this reader may
			// misread; conda skips such records, and so does envkit.
			return nil
		}
		return add(fn, r)
	})
}
