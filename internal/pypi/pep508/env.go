package pep508

import (
	"fmt"
	"strings"
)

// machines maps conda subdirs to Python's platform.machine().
var machines = map[string]string{
	"linux-64": "x86_64", "linux-aarch64": "aarch64", "linux-ppc64le": "ppc64le", "linux-s390x": "s390x",
}

// Machine gives platform.machine() on a conda subdir ("linux-64" ->
// "x86_64").
func Machine(subdir string) (string, error) {
	m, ok := machines[subdir]
	if !ok {
		return "", fmt.Errorf("platform %q: pip packages are resolved for linux-64, linux-aarch64, linux-ppc64le or linux-s390x", subdir)
	}
	return m, nil
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
