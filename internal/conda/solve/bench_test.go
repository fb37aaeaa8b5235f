package solve

import (
	"syscall"
	"testing"
	"time"

	"github.com/envkit/envkit/internal/conda/repodata"
)

func benchSolve(b *testing.B, ix *repodata.Index, wantOK bool, specs ...string) {
	b.Helper()
	var st Stats
	cpu0 := cpuTime()
	for b.Loop() {
		var err error
		_, st, err = Solve(ix, specs, Options{Platform: "linux-64"})
		if (err == nil) != wantOK {
			b.Fatalf("%q: %v", specs, err)
		}
	}
	// The machine is shared: CPU time per solve says more than wall time.
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(st.Records), "records")
	b.ReportMetric(float64(st.Conflicts), "conflicts")
}

// BenchmarkSolveTypical: numpy, scipy and pandas on Anaconda's snapshot.
func BenchmarkSolveTypical(b *testing.B) {
	benchSolve(b, loadIndex(b, "conda-index4.json"), true, "numpy", "scipy", "pandas")
}

// BenchmarkSolvePytorch: pytorch from the pytorch channel with conda-index4
// as the default channel. The snapshot lacks cudatoolkit, networkx and
// others every pytorch build needs, so this is a full refutation of 276
// builds; pytorch-cpu solves.
func BenchmarkSolvePytorch(b *testing.B) {
	benchSolve(b, loadIndex(b, "pytorch_linux-64.json", "conda-index4.json"), false, "pytorch")
}

func BenchmarkSolvePytorchCPU(b *testing.B) {
	benchSolve(b, loadIndex(b, "pytorch_linux-64.json", "conda-index4.json"), true, "pytorch-cpu")
}

func BenchmarkSolveSudokuInkala(b *testing.B) {
	benchSolve(b, sudokuIndex(b, true), true, sudokuSpecs(puzzles["inkala"])...)
}

func BenchmarkSolveSudokuNorvigHard1(b *testing.B) {
	benchSolve(b, sudokuIndex(b, true), true, sudokuSpecs(puzzles["norvig-hard1"])...)
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
