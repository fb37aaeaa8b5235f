package wheel

import (
	"bufio"
	"bytes"
	"fmt"
	"path"
	"regexp"
	"strings"
)

// entryPoint is "name = module:attr.sub [extras]".
var entryPoint = regexp.MustCompile(`^([A-Za-z0-9_.+-]+)\s*=\s*([A-Za-z_][\w.]*)\s*:\s*([A-Za-z_][\w.]*)\s*(\[[^\]]*\])?$`)

// consoleScripts makes bin/ launchers for the console_scripts and
// gui_scripts entry points, with the text pip (distlib) writes on POSIX.
func consoleScripts(entryPoints []byte, python string) ([]member, error) {
	var out []member
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(entryPoints))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";") {
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			section = strings.TrimSpace(line[1 : len(line)-1])
			continue
		}
		if section != "console_scripts" && section != "gui_scripts" {
			continue
		}
		m := entryPoint.FindStringSubmatch(line)
		if m == nil {
			return nil, fmt.Errorf("line %d: %q: want name = module:function", n, line)
		}
		name, module, attr := m[1], m[2], m[3]
		if name == "." || name == ".." {
			return nil, fmt.Errorf("line %d: script name %q", n, name)
		}
		importName, _, _ := strings.Cut(attr, ".")
		script := fmt.Sprintf(`#!%s
# -*- coding: utf-8 -*-
import re
import sys
from %s import %s
if __name__ == '__main__':
    sys.argv[0] = re.sub(r'(-script\.pyw|\.exe)?$', '', sys.argv[0])
    sys.exit(%s())
`, python, module, importName, attr)
		out = append(out, member{dest: path.Join("bin", name), data: []byte(script), exec: true})
	}
	return out, sc.Err()
}
