// Package virtual synthesises conda's virtual packages (CEP 30) for the
// platform an environment is solved for. envkit solves for a target image,
// not for the host, so the defaults describe the image (Debian 12 on
// Linux) and CONDA_OVERRIDE_* variables change them; the host is never
// probed. docs/channels.md lists the defaults.
package virtual

import (
	"fmt"
	"strings"

	"github.com/envkit/envkit/internal/conda/repodata"
)

// Channel is the Record.Channel of virtual packages, as in conda.
const Channel = "@"

// Defaults for Linux targets: Debian 12's glibc, and the kernel of the
// oldest maintained LTS line envkit's images are expected to run on.
const (
	DefaultLinux = "5.10"
	DefaultGlibc = "2.36"
	// DefaultOSX is macOS 11, the first release with arm64.
	DefaultOSX = "11.0"
)

// Override variables, as conda names them.
const (
	EnvGlibc    = "CONDA_OVERRIDE_GLIBC"
	EnvCUDA     = "CONDA_OVERRIDE_CUDA"
	EnvLinux    = "CONDA_OVERRIDE_LINUX"
	EnvOSX      = "CONDA_OVERRIDE_OSX"
	EnvArchspec = "CONDA_OVERRIDE_ARCHSPEC"
)

// OverrideVars lists every variable Packages reads, for callers that hash
// or report them.
var OverrideVars = []string{EnvArchspec, EnvCUDA, EnvGlibc, EnvLinux, EnvOSX}

// archspec is the generic microarchitecture of each platform's CPU.
var archspec = map[string]string{
	"64": "x86_64", "32": "x86", "aarch64": "aarch64", "arm64": "arm64",
	"ppc64le": "ppc64le", "ppc64": "ppc64", "s390x": "s390x", "armv7l": "armv7l",
	"armv6l": "armv6l", "riscv64": "riscv64",
}

// Packages returns the virtual packages of a target platform subdir
// ("linux-64", "osx-arm64", "win-64"; "noarch" has none). lookup is
// os.LookupEnv or a stand-in: an override set to a value replaces the
// default version (the build string for __archspec); set to "" it removes
// the package (__glibc, __linux, __osx, __cuda), as in conda. __cuda is
// only present when CONDA_OVERRIDE_CUDA gives a version: the image has no
// driver to detect.
func Packages(platform string, lookup func(string) (string, bool)) ([]repodata.Record, error) {
	if platform == "noarch" {
		return nil, nil
	}
	system, arch, ok := strings.Cut(platform, "-")
	if !ok || archspec[arch] == "" {
		return nil, fmt.Errorf("virtual packages: unknown platform %q (want e.g. linux-64, linux-aarch64, osx-arm64, win-64)", platform)
	}
	var out []repodata.Record
	add := func(name, version, build string) {
		out = append(out, repodata.Record{
			Name: name, Version: version, Build: build, Subdir: platform, Channel: Channel,
			Filename: name + "-" + version + "-" + build,
		})
	}
	// version gives the override or the default; "" means absent.
	version := func(env, def string) (string, error) {
		v, set := lookup(env)
		if !set {
			return def, nil
		}
		v = strings.TrimSpace(v)
		if strings.ContainsAny(v, " \t=,<>|*") {
			return "", fmt.Errorf("%s=%q: not a version", env, v)
		}
		return v, nil
	}
	switch system {
	case "linux":
		add("__unix", "0", "0")
		v, err := version(EnvLinux, DefaultLinux)
		if err != nil {
			return nil, err
		}
		if v != "" {
			add("__linux", v, "0")
		}
		if v, err = version(EnvGlibc, DefaultGlibc); err != nil {
			return nil, err
		} else if v != "" {
			add("__glibc", v, "0")
		}
	case "osx":
		add("__unix", "0", "0")
		v, err := version(EnvOSX, DefaultOSX)
		if err != nil {
			return nil, err
		}
		if v != "" {
			add("__osx", v, "0")
		}
	case "win":
		add("__win", "0", "0")
	default:
		return nil, fmt.Errorf("virtual packages: unknown platform %q (want e.g. linux-64, linux-aarch64, osx-arm64, win-64)", platform)
	}
	cuda, err := version(EnvCUDA, "")
	if err != nil {
		return nil, err
	}
	if cuda != "" {
		add("__cuda", cuda, "0")
	}
	build, err := version(EnvArchspec, archspec[arch])
	if err != nil {
		return nil, err
	}
	if build == "" {
		build = archspec[arch]
	}
	add("__archspec", "1", build)
	return out, nil
}

// Overrides returns the CONDA_OVERRIDE_* settings lookup sees, as sorted
// "NAME=value" strings: part of what determines a solve.
func Overrides(lookup func(string) (string, bool)) []string {
	var out []string
	for _, env := range OverrideVars {
		if v, ok := lookup(env); ok {
			out = append(out, env+"="+v)
		}
	}
	return out
}
