#!/usr/bin/env bash
# Builds the BuildKit tools pinned in go.mod into ./bin and installs the
# Debian packages the services and fixtures need. Idempotent: a binary whose
# --version already names the pinned version is kept, and apt runs only when
# a package is missing.
#
#   hack/tools.sh [BIN_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-$PWD/bin}
GO=${GO:-go}
mkdir -p "$BIN"

# Debian packages: runc (the OCI worker's runtime), docker-registry (the local
# OCI registry), busybox-static (fixture base image), skopeo (pushes fixture
# images), umoci (inspects them), conda-package-handling (cph, builds fixture
# conda packages).
APT_PACKAGES=(runc docker-registry busybox-static skopeo umoci conda-package-handling)
missing=()
for p in "${APT_PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "tools: missing Debian packages ${missing[*]}; run as root or: apt-get install ${missing[*]}" >&2
		exit 1
	fi
	echo "tools: apt-get install ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian starts the registry as a system service on :5000 when installed; the
# project runs its own registries on free ports and wants that port free.
if [ ${#missing[@]} -gt 0 ] && command -v systemctl >/dev/null && systemctl is-active -q docker-registry 2>/dev/null; then
	systemctl stop docker-registry || true
fi

# Emulators for foreign-architecture build steps (multi-platform builds,
# integration/multiplatform_test.go): qemu-user-static registers them with
# binfmt_misc through binfmt-support, with the F flag, so runc can run them
# inside a container's root. Not fatal: without them only the foreign
# platforms' tests skip, and say why.
emulation() {
	if ! grep -q '^binfmt_misc ' /proc/mounts; then
		mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null || {
			echo "tools: cannot mount binfmt_misc (not root, or no privilege): foreign platforms cannot run here" >&2
			return 0
		}
	fi
	local need=()
	for p in qemu-user-static binfmt-support; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
	done
	if [ ${#need[@]} -gt 0 ]; then
		if [ "$(id -u)" != 0 ]; then
			echo "tools: ${need[*]} not installed and not root: foreign platforms cannot run here (apt-get install ${need[*]})" >&2
			return 0
		fi
		echo "tools: apt-get install ${need[*]}"
		# A fresh machine may have no package lists yet.
		apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null 2>&1 ||
			{ apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null; } || {
			echo "tools: apt-get install ${need[*]} failed: foreign platforms cannot run here" >&2
			return 0
		}
	fi
	local probe=qemu-aarch64
	[ "$(uname -m)" = aarch64 ] && probe=qemu-x86_64
	# Installed before binfmt_misc was mounted (or after a reboot of a
	# container host), the entries are known to binfmt-support but not to
	# the kernel.
	if [ ! -e /proc/sys/fs/binfmt_misc/$probe ]; then
		update-binfmts --enable >/dev/null 2>&1 || true
	fi
	if grep -q '^flags: .*F' "/proc/sys/fs/binfmt_misc/$probe" 2>/dev/null; then
		echo "tools: emulators registered ($probe flags $(sed -n 's/^flags: //p' "/proc/sys/fs/binfmt_misc/$probe"))"
	else
		echo "tools: $probe is not registered with the F flag: foreign platforms cannot run here" >&2
	fi
}
DEBIAN_FRONTEND=noninteractive emulation

# build NAME PACKAGE MODULE: builds PACKAGE from go.mod's MODULE version into
# $BIN/NAME, unless the binary there already reports that version.
build() {
	local name=$1 pkg=$2 mod=$3 version
	version=$($GO list -m -f '{{.Version}}' "$mod")
	# buildkitd and buildctl answer --version, buildx answers version.
	if [ -x "$BIN/$name" ] && { "$BIN/$name" --version 2>/dev/null || "$BIN/$name" version 2>/dev/null; } | grep -qF " $version"; then
		return
	fi
	echo "tools: go build $pkg ($mod $version)"
	local start=$SECONDS
	CGO_ENABLED=0 $GO build -trimpath -o "$BIN/$name" \
		-ldflags "-s -w -X $mod/version.Version=$version -X $mod/version.Package=$mod" "$pkg"
	echo "tools: $name built in $((SECONDS - start))s"
}
build buildkitd github.com/moby/buildkit/cmd/buildkitd github.com/moby/buildkit
build buildctl github.com/moby/buildkit/cmd/buildctl github.com/moby/buildkit
build docker-buildx github.com/docker/buildx/cmd/buildx github.com/docker/buildx

# The docker CLI, when present, finds buildx as a plugin; without it
# bin/docker-buildx runs standalone with the same arguments.
if command -v docker >/dev/null; then
	plugins=${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins
	mkdir -p "$plugins"
	ln -sf "$BIN/docker-buildx" "$plugins/docker-buildx"
fi
