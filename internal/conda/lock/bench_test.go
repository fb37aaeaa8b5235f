package lock

import "testing"

// BenchmarkMarshal writes the 33-package numpy lock (envkit lock's last
// step, and the frontend's staleness check reads it back).
func BenchmarkMarshal(b *testing.B) {
	l := lockOf(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := l.Marshal(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRead(b *testing.B) {
	data, err := lockOf(b).Marshal()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Read("conda-lock.yml", data); err != nil {
			b.Fatal(err)
		}
	}
}
