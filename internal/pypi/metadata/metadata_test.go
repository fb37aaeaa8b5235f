package metadata

import (
	"testing"

	"github.com/envkit/envkit/internal/pypi/pypitest"
)

// The header block of requests 2.31.0's METADATA (PyPI), shortened.
const requestsMetadata = `Metadata-Version: 2.1
Name: requests
Version: 2.31.0
Summary: Python HTTP for Humans.
Requires-Python: >=3.7
License-File: LICENSE
Requires-Dist: charset-normalizer (<4,>=2)
Requires-Dist: idna (<4,>=2.5)
Requires-Dist: urllib3 (<3,>=1.21.1)
Requires-Dist: certifi (>=2017.4.17)
Provides-Extra: security
Provides-Extra: socks
Requires-Dist: PySocks (!=1.5.7,>=1.5.6) ; extra == 'socks'
Provides-Extra: use_chardet_on_py3
Requires-Dist: chardet (<6,>=3.0.2) ; extra == 'use_chardet_on_py3'

# Requests
`

func TestParse(t *testing.T) {
	m, err := Parse([]byte(requestsMetadata))
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "requests" || m.Version != "2.31.0" || m.RequiresPython != ">=3.7" || len(m.RequiresDist) != 6 ||
		m.RequiresDist[0].String() != "charset-normalizer<4,>=2" || len(m.Extras) != 3 || m.Extras[2] != "use-chardet-on-py3" {
		t.Errorf("%+v", m)
	}
	if _, err := Parse([]byte("Metadata-Version: 2.1\nName: x\n")); err == nil {
		t.Error("no Version: want an error")
	}
	if _, err := Parse([]byte("Name: x\nVersion: 1\nRequires-Dist: ???\n")); err == nil {
		t.Error("bad Requires-Dist: want an error")
	}
}

func TestFromWheel(t *testing.T) {
	d := pypitest.Dist{Name: "a", Version: "1.0", Requires: []string{"b>=2"}}
	m, err := FromWheel(d.Build())
	if err != nil || m.Name != "a" || len(m.RequiresDist) != 1 {
		t.Errorf("%+v %v", m, err)
	}
	if _, err := FromWheel([]byte("not a zip")); err == nil {
		t.Error("want an error")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(requestsMetadata))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err == nil && (m.Name == "" || m.Version == "") {
			t.Fatalf("accepted without Name or Version: %+v", m)
		}
	})
}
