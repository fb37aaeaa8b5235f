package hash

import (
	"path/filepath"
	"testing"

	"github.com/envkit/envkit/curated"
	"github.com/envkit/envkit/internal/spec"
)

// A definition extending a curated one hashes as the merge: the same as
// the merge written out in full, and extending with nothing is the curated
// environment's own hash.
func TestCuratedExtensionHash(t *testing.T) {
	extended := hashFile(t, filepath.Join("..", "spec", "testdata", "extends", "my-sklearn.yml"))
	if full := hashFile(t, filepath.Join("testdata", "curated", "my-sklearn-full.yml")); extended != full {
		t.Errorf("from: curated/sklearn plus changes %s, written out in full %s", extended, full)
	}
	for _, name := range curated.Names() {
		data, err := curated.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		def, err := spec.Parse(name+".yml", data, nil)
		if err != nil {
			t.Fatal(err)
		}
		want, err := Of(def)
		if err != nil {
			t.Fatal(err)
		}
		if got := hashText(t, "name: mine\nfrom: curated/"+name+"\n"); got != want {
			t.Errorf("from: curated/%s alone hashes %s, the curated definition %s", name, got, want)
		}
		if added := hashText(t, "from: curated/"+name+"\nconda:\n  dependencies: [lightgbm=4.5]\n"); added == want {
			t.Errorf("from: curated/%s with a package added hashes as curated/%s", name, name)
		}
	}
}
