package install

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cancelOn cancels a context when the progress line it waits for is
// written: an interrupt at a known point of Create.
type cancelOn struct {
	line   string
	cancel context.CancelFunc
}

func (c cancelOn) Write(p []byte) (int, error) {
	if strings.HasPrefix(string(p), c.line) {
		c.cancel()
	}
	return len(p), nil
}

// An interrupt (a cancelled context) while packages are linked, or during
// the last one, removes the temporary directory: nothing of the
// environment stays beside or at the prefix.
func TestCreateCancelledCleansUp(t *testing.T) {
	recs := channelRecords(t, "test-recipes", "noarch")
	for _, at := range []string{"link post_link-b", "link post_link-c"} {
		parent := t.TempDir()
		prefix := filepath.Join(parent, "env")
		ctx, cancel := context.WithCancel(context.Background())
		opts := createOpts(t, prefix)
		opts.Progress = cancelOn{at, cancel}
		err := Create(ctx, pick(t, recs, "post_link-c-1.0-0.conda", "post_link-b-1.0-0.conda"), opts)
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s: got %v, want context.Canceled", at, err)
		}
		if left, _ := os.ReadDir(parent); len(left) > 0 {
			t.Errorf("%s: left %v beside the prefix", at, left)
		}
	}
}
