// Command envkit validates, hashes, locks, creates and builds ML environments.
package main

import (
	"errors"
	"fmt"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// run executes the CLI and maps errors to exit codes: 0 ok, 1 invalid input
// or failed operation, 2 usage error.
func run(args []string) int {
	root := newRootCmd()
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return 0
	}
	var silent *exitError
	if errors.As(err, &silent) {
		return silent.code
	}
	fmt.Fprintln(os.Stderr, "envkit: "+err.Error())
	var ue *usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}
