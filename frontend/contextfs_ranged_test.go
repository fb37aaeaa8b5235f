package frontend

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"io/fs"
	"testing"
	"testing/fstest"
)

// A context file larger than one gateway read (a wheel file beside the
// definition) is read in ranges, as the caller reads it; a small one in
// one read.
func TestContextFileInRanges(t *testing.T) {
	big := make([]byte, gatewayMessageLimit+3*maxRead+17)
	rand.Read(big)
	ref := &fakeRef{files: fstest.MapFS{"wheels/big.whl": {Data: big}, "small.txt": {Data: []byte("numpy<2\n")}}}
	for name, want := range map[string][]byte{"wheels/big.whl": big, "small.txt": []byte("numpy<2\n")} {
		f, err := openRef(context.Background(), ref, name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(f)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: read %d bytes, want the file's %d", name, len(got), len(want))
		}
		if st, _ := f.(fs.File).Stat(); st.Size() != int64(len(want)) {
			t.Errorf("%s: size %d", name, st.Size())
		}
	}
}
