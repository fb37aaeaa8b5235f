package spec

import (
	"fmt"
	"sort"
	"strings"
)

// Error is one problem in a definition, at a position.
type Error struct {
	Pos Pos
	Msg string
}

func (e *Error) Error() string {
	if p := e.Pos.String(); p != "" {
		return p + ": " + e.Msg
	}
	return e.Msg
}

// ErrorList is every problem found in a definition, sorted by position.
// Its message has one "FILE:LINE:COL: message" line per problem.
type ErrorList []*Error

func (l ErrorList) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// errs collects problems while reading one definition.
type errs struct{ list ErrorList }

func (c *errs) add(pos Pos, format string, a ...any) {
	c.list = append(c.list, &Error{Pos: pos, Msg: fmt.Sprintf(format, a...)})
}

// err returns the collected problems sorted by position, or nil.
func (c *errs) err() error {
	if len(c.list) == 0 {
		return nil
	}
	sort.SliceStable(c.list, func(i, j int) bool {
		a, b := c.list[i].Pos, c.list[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	return c.list
}
