package wheel

import (
	"strings"
	"testing"
)

// FuzzEntryPoints: the entry_points.txt reader never panics and every
// launcher it makes is a bin/ file with no further path.
func FuzzEntryPoints(f *testing.F) {
	f.Add([]byte("[console_scripts]\ndemo = demo.cli:main [extra]\n[gui_scripts]\ng = a.b:c.d\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ms, err := consoleScripts(data, "/opt/conda/bin/python3.11")
		if err != nil {
			return
		}
		for _, m := range ms {
			if !strings.HasPrefix(m.dest, "bin/") || strings.Count(m.dest, "/") != 1 || safePath(m.dest) != nil {
				t.Fatalf("launcher at %q", m.dest)
			}
		}
	})
}

// FuzzRecord: RECORD reading never panics on arbitrary RECORD text, and
// an entry it accepts checks data without panicking.
func FuzzRecord(f *testing.F) {
	f.Add([]byte("a.py,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0\nx.dist-info/RECORD,,\n"))
	f.Fuzz(func(t *testing.T, record []byte) {
		listed, err := parseRecord("x.dist-info", record)
		if err != nil {
			return
		}
		for p, e := range listed {
			e.check(p, nil)
		}
	})
}
