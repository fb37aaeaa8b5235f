package credentials

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkForURLNetrc is the lookup each download of a host without
// remembered credentials makes: the netrc is read again every time, so an
// edit applies at once; a sharded channel makes thousands of them.
func BenchmarkForURLNetrc(b *testing.B) {
	netrc := filepath.Join(b.TempDir(), "netrc")
	if err := os.WriteFile(netrc, []byte("machine a.example login u password p\nmachine b.example login v password q\ndefault login anonymous password x\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	b.Setenv("NETRC", netrc)
	b.Setenv("RATTLER_AUTH_FILE", "")
	b.Setenv("HOME", b.TempDir())
	b.Setenv("PIP_INDEX_URL", "")
	b.Setenv("PIP_EXTRA_INDEX_URL", "")
	b.ReportAllocs()
	for b.Loop() {
		if a, err := ForURL("https://b.example/conda-forge/linux-64/shard.msgpack.zst"); err != nil || a.Header == "" {
			b.Fatal("no credentials")
		}
	}
}

// BenchmarkForURLAuthFile is the same lookup answered by the auth file
// $RATTLER_AUTH_FILE names (read afresh too), with a wildcard entry.
func BenchmarkForURLAuthFile(b *testing.B) {
	auth := filepath.Join(b.TempDir(), "auth.json")
	if err := os.WriteFile(auth, []byte(`{"a.example": {"BearerToken": "t1"}, "*.b.example": {"BasicHTTP": {"username": "u", "password": "p"}}, "c.example": {"CondaToken": "t3"}}`), 0o600); err != nil {
		b.Fatal(err)
	}
	b.Setenv("RATTLER_AUTH_FILE", auth)
	b.Setenv("HOME", b.TempDir())
	b.Setenv("PIP_INDEX_URL", "")
	b.Setenv("PIP_EXTRA_INDEX_URL", "")
	b.ReportAllocs()
	for b.Loop() {
		if a, err := ForURL("https://repo.b.example/conda-forge/linux-64/shard.msgpack.zst"); err != nil || a.Header == "" {
			b.Fatal("no credentials")
		}
	}
}
