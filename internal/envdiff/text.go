package envdiff

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// WriteText prints the report for people: one section per part that
// differs, "+" added, "-" removed, "~" changed.
func (r *Report) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	if r.HashChanged {
		fmt.Fprintf(bw, "hash: %s -> %s (changed)\n", r.HashA, r.HashB)
	} else {
		fmt.Fprintf(bw, "hash: %s (unchanged)\n", r.HashA)
	}
	if r.Same() {
		fmt.Fprintln(bw, "no differences")
		return bw.Flush()
	}
	section(bw, "", r.Fields)
	if len(r.Steps) > 0 {
		fmt.Fprintln(bw, "steps:")
		for _, s := range r.Steps {
			mark := "+"
			if s.Kind == Removed {
				mark = "-"
			}
			fmt.Fprintf(bw, "  %s %s\n", mark, indentLines(s.Instruction, "    "))
		}
	}
	section(bw, "conda packages", r.Conda)
	section(bw, "pip packages", r.Pip)
	section(bw, "conda variables", r.CondaVariables)
	section(bw, "env", r.Env)
	section(bw, "spark packages", r.Spark)
	if len(r.Lock) > 0 {
		fmt.Fprintln(bw, "lock:")
		for _, c := range r.Lock {
			fmt.Fprintf(bw, "  %s\n", changeLine(Change{Name: fmt.Sprintf("%s %s/%s", c.Name, c.Platform, c.Manager), Kind: c.Kind, Before: c.Before, After: c.After}))
		}
	}
	section(bw, "metadata (not in the hash)", r.Metadata)
	return bw.Flush()
}

// section prints changes under a heading; with no heading, at top level.
func section(w io.Writer, heading string, changes []Change) {
	if len(changes) == 0 {
		return
	}
	indent := ""
	if heading != "" {
		fmt.Fprintf(w, "%s:\n", heading)
		indent = "  "
	}
	for _, c := range changes {
		fmt.Fprintf(w, "%s%s\n", indent, changeLine(c))
	}
}

func changeLine(c Change) string {
	switch c.Kind {
	case Added:
		return fmt.Sprintf("+ %s: %s", c.Name, oneLine(c.After))
	case Removed:
		return fmt.Sprintf("- %s: %s", c.Name, oneLine(c.Before))
	}
	return fmt.Sprintf("~ %s: %s -> %s", c.Name, oneLine(c.Before), oneLine(c.After))
}

// oneLine shortens multi-line values (an inline Dockerfile) to their first
// line and a line count.
func oneLine(s string) string {
	first, rest, ok := strings.Cut(s, "\n")
	if !ok {
		return s
	}
	return fmt.Sprintf("%s … (%d lines)", first, strings.Count(rest, "\n")+2)
}

func indentLines(s, indent string) string {
	return strings.ReplaceAll(s, "\n", "\n"+indent)
}
