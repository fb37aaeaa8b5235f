package main

import "testing"

func TestUsageErrorExitCode(t *testing.T) {
	if got := run([]string{"--no-such-flag"}); got != 2 {
		t.Fatalf("unknown flag: exit %d, want 2", got)
	}
	if got := run([]string{"--help"}); got != 0 {
		t.Fatalf("--help: exit %d, want 0", got)
	}
}
