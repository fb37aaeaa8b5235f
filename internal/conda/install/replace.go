package install

import (
	"bytes"
	"fmt"
	"path"
	"strings"
)

// DefaultPlaceholder is the prefix placeholder of packages that name none
// (info/has_prefix lines without one). It is built from parts so that this
// binary, when itself packaged, is never relocated.
var DefaultPlaceholder = "/opt/anaconda1anaconda2" + "anaconda3"

// maxShebang is Linux's limit on a shebang line (conda's
// MAX_SHEBANG_LENGTH on Linux).
const maxShebang = 127

// ReplaceText replaces every occurrence of placeholder by prefix, after
// applying conda's shebang rule: when the first line is "#!" with an
// interpreter inside the placeholder, and with the new prefix that line
// would be longer than 127 bytes or the prefix contains a space, the line
// becomes "#!/usr/bin/env <interpreter name><arguments>".
func ReplaceText(data []byte, placeholder, prefix string) []byte {
	if exe, args, end, ok := shebang(data); ok && bytes.HasPrefix(exe, []byte(placeholder+"/")) {
		newLen := end - len(placeholder) + len(prefix)
		if newLen > maxShebang || strings.Contains(prefix, " ") {
			data = envShebang(data, exe, args, end)
		}
	}
	return bytes.ReplaceAll(data, []byte(placeholder), []byte(prefix))
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

func envShebang(data, exe, args []byte, end int) []byte {
	var b bytes.Buffer
	b.WriteString("#!/usr/bin/env ")
	b.Write(exe[bytes.LastIndexByte(exe, '/')+1:])
	b.Write(args)
	b.Write(data[end:])
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

// ReplaceBinary rewrites each NUL-terminated string that contains
// placeholder (the string runs to the next NUL or the end of the data),
// replacing every occurrence in it by prefix and padding with NUL bytes to
// the string's old length, so offsets in the binary do not move. A prefix
// longer than the placeholder cannot fit and is an error.
func ReplaceBinary(data []byte, placeholder, prefix string) ([]byte, error) {
	ph := []byte(placeholder)
	if len(ph) == 0 || !bytes.Contains(data, ph) {
		return data, nil
	}
	if len(prefix) > len(ph) {
		return nil, &PaddingError{placeholder, prefix}
	}
	out := make([]byte, 0, len(data))
	for {
		i := bytes.Index(data, ph)
		if i < 0 {
			return append(out, data...), nil
		}
		out = append(out, data[:i]...)
		data = data[i:]
		// The string ends at the first NUL after the placeholder.
		end := len(ph) + bytes.IndexByte(data[len(ph):], 0)
		if end < len(ph) {
			end = len(data)
		}
		str := bytes.ReplaceAll(data[:end], ph, []byte(prefix))
		out = append(out, str...)
		for n := len(str); n < end; n++ {
			out = append(out, 0)
		}
		data = data[end:]
	}
}
