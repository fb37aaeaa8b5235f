package repodata

import (
	"os"
	"testing"

	"github.com/envkit/envkit/internal/conformance"
)

func load(t *testing.T, file, channel, subdir string) []Record {
	t.Helper()
	data, err := os.ReadFile(conformance.Dir(t, "repodata", file))
	if err != nil {
		t.Fatal(err)
	}
	rd, err := Parse(channel, subdir, data)
	if err != nil {
		t.Fatal(err)
	}
	return rd.Records
}

func TestIndexPriority(t *testing.T) {
	const pytorch, main = "https://conda.anaconda.org/pytorch", "https://conda.anaconda.org/channel-4"
	virtual := []Record{{Name: "__glibc", Version: "2.36", Build: "0", Channel: "@"}}
	ix := NewIndex([]string{pytorch + "/", main},
		load(t, "conda-index4.json", main, "linux-64"),
		load(t, "pytorch_linux-64.json", pytorch, "linux-64"),
		virtual)
	if got := ix.Channels(); len(got) != 2 || got[0] != pytorch {
		t.Fatalf("channels %v", got)
	}
	if ix.Len() != 5643+2181+1 {
		t.Errorf("Len %d", ix.Len())
	}
	if ix.ChannelRank("@") != 2 || ix.ChannelRank(main) != 1 {
		t.Errorf("ranks: @ %d, main %d", ix.ChannelRank("@"), ix.ChannelRank(main))
	}
	for _, name := range []string{"python", "numpy", "pytorch", "__glibc"} {
		rs := ix.ByName(name)
		if len(rs) == 0 {
			t.Fatalf("no %s", name)
		}
		for i := 1; i < len(rs); i++ {
			if ix.ChannelRank(rs[i-1].Channel) > ix.ChannelRank(rs[i].Channel) {
				t.Fatalf("%s: %s (%s) before %s (%s)", name, rs[i-1], rs[i-1].Channel, rs[i], rs[i].Channel)
			}
		}
	}
	names := ix.Names()
	for i := 1; i < len(names); i++ {
		if names[i-1] >= names[i] {
			t.Fatalf("names not sorted at %q", names[i])
		}
	}
	if ix.ByName("no-such-package") != nil {
		t.Error("unknown name has records")
	}
}
