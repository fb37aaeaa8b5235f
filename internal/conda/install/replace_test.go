package install

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// replaceBytes runs the streaming replacement of mode over in, fed one
// byte per read so that every chunk boundary is crossed.
func replaceBytes(mode string, in []byte, placeholder, prefix string) ([]byte, error) {
	var out bytes.Buffer
	r := iotest.OneByteReader(bytes.NewReader(in))
	var err error
	if mode == "binary" {
		err = ReplaceBinary(&out, r, placeholder, prefix)
	} else {
		err = ReplaceText(&out, r, placeholder, prefix)
	}
	return out.Bytes(), err
}

func TestReplaceBinary(t *testing.T) {
	cases := []struct {
		name, in, placeholder, prefix, want string
	}{
		// conda tests/test_install.py
		{"simple", "xxxaaaaaxyz\x00zz", "aaaaa", "bbbbb", "xxxbbbbbxyz\x00zz"},
		{"shorter", "xxxaaaaaxyz\x00zz", "aaaaa", "bbbb", "xxxbbbbxyz\x00\x00zz"},
		{"two", "aaaacaaaa\x00", "aaaa", "bbb", "bbbcbbb\x00\x00\x00"},
		{"multiple", "aaaacaaaa\x00aaaa\x00", "aaaa", "bbb", "bbbcbbb\x00\x00\x00bbb\x00\x00"},
		{"ends with newline", "aaaa\nbbbb\x00", "aaaa", "bbb", "bbb\nbbbb\x00\x00"},
		// rattler crates/rattler/src/install/link.rs
		{"rattler path", "PATH=/placeholder/etc/share:/placeholder/bin/:\x00somemoretext", "/placeholder", "/target",
			"PATH=/target/etc/share:/target/bin/:\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00somemoretext"},
		// no terminating NUL: the string runs to the end of the data
		{"no nul", "ab/placeholder/x", "/placeholder", "/t", "ab/t/x\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"},
		{"absent", "nothing here\x00", "/placeholder", "/t", "nothing here\x00"},
	}
	for _, c := range cases {
		got, err := replaceBytes("binary", []byte(c.in), c.placeholder, c.prefix)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if string(got) != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
		if len(got) != len(c.in) {
			t.Errorf("%s: length changed from %d to %d", c.name, len(c.in), len(got))
		}
	}
}

func TestReplaceBinaryTooLong(t *testing.T) {
	_, err := replaceBytes("binary", []byte("xxxaaaaaxyz\x00zz"), "aaaaa", "bbbbbb")
	var pe *PaddingError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "longer than the package's binary placeholder") {
		t.Fatalf("got %v, want a padding error", err)
	}
}

// A NUL in a binary placeholder is refused (the in-memory version looped
// on one: fuzzing found data "\xff\x000", placeholder "\x00").
func TestReplaceBinaryNULPlaceholder(t *testing.T) {
	if _, err := replaceBytes("binary", []byte("\xff\x000"), "\x00", "\xff"); err == nil || !strings.Contains(err.Error(), "NUL") {
		t.Errorf("got %v, want the placeholder refused", err)
	}
}

func TestReplaceText(t *testing.T) {
	ph := "/opt/anaconda1anaconda2anaconda3"
	cases := []struct{ name, in, prefix, want string }{
		{"plain", "prefix=" + ph + "\nlibdir=" + ph + "/lib\n", "/env", "prefix=/env\nlibdir=/env/lib\n"},
		{"short shebang", "#!" + ph + "/bin/python -u\nprint(1)\n", "/env", "#!/env/bin/python -u\nprint(1)\n"},
		{"long shebang", "#!" + ph + "/bin/python3.11 -E\nx\n", "/" + strings.Repeat("p", 130), "#!/usr/bin/env python3.11 -E\nx\n"},
		{"space in prefix", "#!" + ph + "/bin/perl\nx\n", "/my env", "#!/usr/bin/env perl\nx\n"},
		{"no shebang", ph + "\n", "/my env", "/my env\n"},
	}
	for _, c := range cases {
		if got, _ := replaceBytes("text", []byte(c.in), ph, c.prefix); string(got) != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

func TestParseEntryPoint(t *testing.T) {
	cmd, mod, fn, err := parseEntryPoint("jupyter-lab = jupyterlab.labapp:main")
	if err != nil || cmd != "jupyter-lab" || mod != "jupyterlab.labapp" || fn != "main" {
		t.Errorf("got %q %q %q %v", cmd, mod, fn, err)
	}
	for _, bad := range []string{"nocolon = mod", "= mod:f", "a/b = m:f", "justtext", ".. = m:f", ". = m:f", "a\x00 = m:f"} {
		if _, _, _, err := parseEntryPoint(bad); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
}

func TestSpecName(t *testing.T) {
	for in, want := range map[string]string{
		"python >=3.8,<3.9": "python", "post_link-b": "post_link-b", "conda-forge::numpy[version='>=1']": "numpy",
		"libgcc-ng >=7.3.0": "libgcc-ng", "foo==1.0=py_0": "foo", "Bar": "bar",
	} {
		if got := SpecName(in); got != want {
			t.Errorf("SpecName(%q) = %q, want %q", in, got, want)
		}
	}
}

// referenceText and referenceBinary are the in-memory replacements the
// streaming ones replaced, kept as the model they must agree with.
func referenceText(data []byte, placeholder, prefix string) []byte {
	if exe, args, end, ok := shebang(data); ok && bytes.HasPrefix(exe, []byte(placeholder+"/")) {
		newLen := end - len(placeholder) + len(prefix)
		if newLen > maxShebang || strings.Contains(prefix, " ") {
			data = append(envShebang(exe, args), data[end:]...)
		}
	}
	return bytes.ReplaceAll(data, []byte(placeholder), []byte(prefix))
}

func referenceBinary(data []byte, placeholder, prefix string) ([]byte, error) {
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

// pieces reads data in the sizes given by cuts (cycled), so the fuzzer
// chooses where the chunk boundaries fall.
type pieces struct {
	data []byte
	cuts []byte
	i    int
}

func (p *pieces) Read(b []byte) (int, error) {
	if len(p.data) == 0 {
		return 0, io.EOF
	}
	n := 1
	if len(p.cuts) > 0 {
		n = int(p.cuts[p.i%len(p.cuts)])%7 + 1
		p.i++
	}
	n = min(n, len(b), len(p.data))
	copy(b, p.data[:n])
	p.data = p.data[n:]
	return n, nil
}

// FuzzReplace: the streaming replacements give the bytes of the in-memory
// model, in both modes, wherever the reads split the data.
func FuzzReplace(f *testing.F) {
	ph := DefaultPlaceholder
	f.Add([]byte("aaaacaaaa\x00aaaa\x00"), "aaaa", "bbb", []byte{1, 2, 3})
	f.Add([]byte("#!"+ph+"/bin/python -u\nx="+ph+"\n"), ph, "/"+strings.Repeat("p", 120), []byte{0})
	f.Add([]byte("PATH=/placeholder/etc:/placeholder/bin\x00rest/placeholder"), "/placeholder", "/t", []byte{5, 0, 3})
	f.Add([]byte("////////"), "/", "/e", []byte{})
	f.Fuzz(func(t *testing.T, data []byte, placeholder, prefix string, cuts []byte) {
		if placeholder == "" || strings.IndexByte(placeholder, 0) >= 0 {
			return // linking never replaces an empty placeholder; a NUL in one is refused
		}
		var text bytes.Buffer
		if err := ReplaceText(&text, &pieces{data: data, cuts: cuts}, placeholder, prefix); err != nil {
			t.Fatal(err)
		}
		if want := referenceText(data, placeholder, prefix); !bytes.Equal(text.Bytes(), want) {
			t.Fatalf("text: got %q, want %q", text.Bytes(), want)
		}
		var all bytes.Buffer
		s := getScratch(&all, len(placeholder))
		err := s.replaceAll(&pieces{data: data, cuts: cuts}, []byte(placeholder), []byte(prefix))
		s.release()
		if err != nil {
			t.Fatal(err)
		}
		if want := bytes.ReplaceAll(data, []byte(placeholder), []byte(prefix)); !bytes.Equal(all.Bytes(), want) {
			t.Fatalf("replaceAll: got %q, want %q", all.Bytes(), want)
		}
		var bin bytes.Buffer
		err = ReplaceBinary(&bin, &pieces{data: data, cuts: cuts}, placeholder, prefix)
		want, werr := referenceBinary(data, placeholder, prefix)
		if (err != nil) != (werr != nil) {
			t.Fatalf("binary: error %v, model %v", err, werr)
		}
		if err == nil && !bytes.Equal(bin.Bytes(), want) {
			t.Fatalf("binary: got %q, want %q", bin.Bytes(), want)
		}
		if err == nil && bin.Len() != len(data) {
			t.Fatalf("binary: length %d -> %d", len(data), bin.Len())
		}
	})
}

// BenchmarkReplace streams 64 MiB through each mode: B/op stays the size
// of the buffers whatever the input (the in-memory version held the input
// and the output).
func BenchmarkReplace(b *testing.B) {
	ph := DefaultPlaceholder
	block := []byte(strings.Repeat("x", 4000) + ph + "/lib\x00")
	const size = 64 << 20
	for _, mode := range []string{"text", "binary"} {
		b.Run(mode, func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				r := io.LimitReader(&repeatReader{block: block}, size)
				var err error
				if mode == "binary" {
					err = ReplaceBinary(io.Discard, r, ph, "/opt/env")
				} else {
					err = ReplaceText(io.Discard, r, ph, "/opt/env")
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// repeatReader reads block over and over.
type repeatReader struct {
	block []byte
	off   int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.block[r.off:])
		n += c
		r.off = (r.off + c) % len(r.block)
	}
	return n, nil
}
