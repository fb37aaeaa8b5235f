package pep508

import (
	"fmt"
	"strings"

	"github.com/envkit/envkit/internal/platform"
)

// Machine gives platform.machine() on a conda subdir ("linux-64" ->
// "x86_64"), from envkit's platform table.
func Machine(subdir string) (string, error) {
	p, err := platform.FromSubdir(subdir)
	if err != nil {
		return "", fmt.Errorf("pip packages: %w", err)
	}
	return p.Machine, nil
}

// TargetEnv gives the marker values of CPython pythonVersion ("3.11" or
// "3.11.4") on a Linux conda subdir. platform_release and platform_version
// describe the build host's kernel and are left empty: a lock must not
// depend on them.
func TargetEnv(pythonVersion, subdir string) (Env, error) {
	machine, err := Machine(subdir)
	if err != nil {
		return nil, err
	}
	parts := strings.Split(pythonVersion, ".")
	if len(parts) < 2 {
		return nil, fmt.Errorf("python version %q: want major.minor", pythonVersion)
	}
	full := pythonVersion
	if len(parts) == 2 {
		full += ".0"
	}
	return Env{
		"python_version":                 parts[0] + "." + parts[1],
		"python_full_version":            full,
		"os_name":                        "posix",
		"sys_platform":                   "linux",
		"platform_system":                "Linux",
		"platform_machine":               machine,
		"platform_python_implementation": "CPython",
		"implementation_name":            "cpython",
		"implementation_version":         full,
		"platform_release":               "",
		"platform_version":               "",
	}, nil
}
