package install

import (
	"errors"
	"strings"
	"testing"
)

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
		got, err := ReplaceBinary([]byte(c.in), c.placeholder, c.prefix)
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
	_, err := ReplaceBinary([]byte("xxxaaaaaxyz\x00zz"), "aaaaa", "bbbbbb")
	var pe *PaddingError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "longer than the package's binary placeholder") {
		t.Fatalf("got %v, want a padding error", err)
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
		if got := string(ReplaceText([]byte(c.in), ph, c.prefix)); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

func TestParseEntryPoint(t *testing.T) {
	cmd, mod, fn, err := parseEntryPoint("jupyter-lab = jupyterlab.labapp:main")
	if err != nil || cmd != "jupyter-lab" || mod != "jupyterlab.labapp" || fn != "main" {
		t.Errorf("got %q %q %q %v", cmd, mod, fn, err)
	}
	for _, bad := range []string{"nocolon = mod", "= mod:f", "a/b = m:f", "justtext"} {
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
