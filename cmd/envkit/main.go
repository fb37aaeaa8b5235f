// Command envkit validates, hashes, locks, creates and builds ML environments.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

func main() {
	// SIGINT and SIGTERM cancel the commands' context, so that what they
	// started (downloads, a temporary environment) is removed before
	// envkit exits; a second signal ends envkit at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := runContext(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// Exit statuses; README.md says what each means.
const (
	exitOK          = 0
	exitFailed      = 1 // invalid input, a failed operation, an internal error
	exitUsage       = 2 // how the command was called
	exitInterrupted = 130
)

// run is runContext without signals (tests).
func run(args []string) int { return runContext(context.Background(), args) }

// runContext executes the CLI and maps errors to exit statuses. A panic
// is a bug in envkit: it is reported as one, exit 1, not Go's exit 2 that
// would read as a usage error.
func runContext(ctx context.Context, args []string) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(os.Stderr, "envkit: internal error (a bug in envkit, please report it with the command that caused it): %v\n%s", r, debug.Stack())
			code = exitFailed
		}
	}()
	root := newRootCmd()
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	if ctx.Err() != nil {
		fmt.Fprintf(os.Stderr, "envkit: %v: stopped\n", context.Cause(ctx))
		return exitInterrupted
	}
	var silent *exitError
	if errors.As(err, &silent) {
		return silent.code
	}
	fmt.Fprintln(os.Stderr, "envkit: "+err.Error())
	var ue *usageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	return exitFailed
}
