package buildplan

import (
	"strings"
	"testing"

	"github.com/envkit/envkit/internal/conda/repodata"
)

// A pin changed for one platform leaves the other platform's image hash as
// it was; with one platform the image hash is the build's.
func TestSubdirHash(t *testing.T) {
	rec := func(subdir, version string) *repodata.Record {
		return &repodata.Record{Name: "a", Version: version, Build: "0", SHA256: strings.Repeat("1", 64), URL: "https://example.com/" + subdir + "/a-" + version + "-0.conda"}
	}
	both := func(armVersion string) *Locked {
		pkgs := map[string][]*repodata.Record{"linux-64": {rec("linux-64", "1")}, "linux-aarch64": {rec("linux-aarch64", armVersion)}}
		return &Locked{Hash: PinsHash(pkgs, nil, nil), Packages: pkgs}
	}
	before, after := both("1"), both("2")
	if before.Hash == after.Hash {
		t.Fatal("the build's hash ignores an arm64 pin")
	}
	if before.SubdirHash("linux-64") != after.SubdirHash("linux-64") {
		t.Error("the linux-64 image hash changed with an arm64 pin")
	}
	if before.SubdirHash("linux-aarch64") == after.SubdirHash("linux-aarch64") {
		t.Error("the linux-aarch64 image hash ignores its own pin")
	}
	one := NewLocked(map[string][]*repodata.Record{"linux-64": {rec("linux-64", "1")}})
	if one.SubdirHash("linux-64") != one.Hash {
		t.Error("with one platform the image hash differs from the build's")
	}
	if (&Locked{}).SubdirHash("linux-64") != "" {
		t.Error("an environment without conda has a lock hash")
	}
}
