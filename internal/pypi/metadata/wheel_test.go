package metadata

import (
	"archive/zip"
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/envkit/envkit/internal/pypi/pypitest"
	"github.com/envkit/envkit/internal/pypi/tags"
)

// hostileEntries is more than maxDirectory of directory entries, counted
// so that archive/zip accepts the archive (196609 = 1 modulo 65536).
const hostileEntries = 3<<16 + 1

// A wheel whose zip directory is larger than any real wheel's is refused
// before it is read whole; archive/zip alone would read it.
func TestFromWheelFileLargeDirectory(t *testing.T) {
	bomb := pypitest.RepeatedEntries(hostileEntries)
	if zr, err := zip.NewReader(bytes.NewReader(bomb), int64(len(bomb))); err != nil || len(zr.File) != hostileEntries {
		t.Fatalf("the generated zip is not what archive/zip reads: %v", err)
	}
	_, err := FromWheel(bomb)
	if err == nil || !strings.Contains(err.Error(), "not a wheel: its zip directory is larger than 8 MiB") {
		t.Errorf("error %v", err)
	}
	// Below the bound, the same archive is read (and has no METADATA).
	if _, err := FromWheel(pypitest.RepeatedEntries(1000)); err == nil || err.Error() != "wheel: no .dist-info/METADATA" {
		t.Errorf("small directory: %v", err)
	}
}

// METADATA is read up to its header block: a header block that does not
// end within 1 MiB (here 16 MiB of headers compressed to some kB) is
// refused without being decompressed whole.
func TestFromWheelFileLongHeaders(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("x-1.0.dist-info/METADATA")
	w.Write([]byte("Metadata-Version: 2.1\nName: x\nVersion: 1.0\n"))
	line := []byte("Classifier: " + strings.Repeat("a", 100) + "\n")
	for range 16 << 20 / len(line) {
		w.Write(line)
	}
	zw.Close()
	_, err := FromWheel(buf.Bytes())
	if err == nil || !strings.Contains(err.Error(), "x-1.0.dist-info/METADATA: its header block does not end within its first 1 MiB") {
		t.Errorf("error %v", err)
	}
	// A long description after the header block is not read.
	buf.Reset()
	zw = zip.NewWriter(&buf)
	w, _ = zw.Create("x-1.0.dist-info/METADATA")
	w.Write([]byte("Metadata-Version: 2.1\nName: x\nVersion: 1.0\n\n"))
	w.Write(bytes.Repeat([]byte("description\n"), 4<<20/12))
	zw.Close()
	if m, err := FromWheel(buf.Bytes()); err != nil || m.Name != "x" {
		t.Errorf("long description: %+v %v", m, err)
	}
}

func TestMatches(t *testing.T) {
	m := Metadata{Name: "My.Model", Version: "1.0.0"}
	for file, want := range map[string]string{
		"my_model-1.0-py3-none-any.whl":   "",
		"My_Model-1.0.0-py3-none-any.whl": "",
		"other-1.0-py3-none-any.whl":      "METADATA names project My.Model, the file name other",
		"my_model-1.1-py3-none-any.whl":   "METADATA says version 1.0.0, the file name 1.1",
	} {
		w, err := tags.ParseWheelName(file)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Matches(w); want == "" && err != nil || want != "" && (err == nil || err.Error() != want) {
			t.Errorf("%s: %v, want %q", file, err, want)
		}
	}
}

// The cost of refusing a hostile wheel, against archive/zip reading its
// directory whole: bounded for FromWheel, growing with the directory for
// archive/zip (go test -bench Hostile -benchmem).
func BenchmarkHostileWheel(b *testing.B) {
	for _, n := range []int{hostileEntries, 4 * hostileEntries} {
		bomb := pypitest.RepeatedEntries(n)
		b.Run(fmt.Sprintf("FromWheel/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				FromWheel(bomb)
			}
		})
		b.Run(fmt.Sprintf("zip.NewReader/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				zip.NewReader(bytes.NewReader(bomb), int64(len(bomb)))
			}
		})
	}
}

// FuzzFromWheel: any bytes read as a wheel give METADATA with a name and
// a version, or an error; never a panic.
func FuzzFromWheel(f *testing.F) {
	f.Add(pypitest.Dist{Name: "a", Version: "1.0", Requires: []string{"b>=2"}}.Build())
	f.Add(pypitest.RepeatedEntries(3))
	f.Add([]byte("PK\x05\x06" + strings.Repeat("\x00", 18)))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := FromWheel(data)
		if err == nil && (m.Name == "" || m.Version == "") {
			t.Fatalf("accepted without Name or Version: %+v", m)
		}
	})
}
