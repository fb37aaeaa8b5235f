#!/bin/sh
# Builds envkit's frontend image from freshly compiled static binaries and
# pushes it, with the BuildKit at $BUILDKIT_HOST and nothing pulled:
#
#   BUILDKIT_HOST=unix:///run/buildkit/buildkitd.sock hack/frontend-image.sh 127.0.0.1:5000/envkit/frontend:dev
#
# PLATFORMS (default linux/amd64,linux/arm64: one index, so a builder of
# either architecture runs its own envkit in the link steps) is a comma
# list; Go cross-compiles one binary per platform and nothing runs under
# emulation (the image is FROM scratch).
# BUILDCTL (default bin/buildctl) and VERSION (default git describe) can be
# overridden. The push is plain HTTP-capable (registry.insecure) so a
# 127.0.0.1 registry works.
set -eu

IMAGE=${1:?usage: hack/frontend-image.sh IMAGE}
: "${BUILDKIT_HOST:?set BUILDKIT_HOST to the BuildKit daemon address (make services-up starts one)}"
cd "$(dirname "$0")/.."
BUILDCTL=${BUILDCTL:-bin/buildctl}
GO=${GO:-go}
PLATFORMS=${PLATFORMS:-linux/amd64,linux/arm64}
VERSION=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}

[ -x "$BUILDCTL" ] || { echo "frontend-image: $BUILDCTL not found (make tools builds it)" >&2; exit 1; }

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT INT TERM
mkdir "$ctx/bin"
for p in $(echo "$PLATFORMS" | tr ',' ' '); do
	os=${p%%/*}
	arch=${p#*/}
	arch=${arch%%/*}
	CGO_ENABLED=0 GOOS=$os GOARCH=$arch $GO build -trimpath -ldflags "-s -w -X main.version=$VERSION" \
		-o "$ctx/bin/envkit-$os-$arch" ./cmd/envkit
done
cp Dockerfile "$ctx/Dockerfile"

"$BUILDCTL" --addr "$BUILDKIT_HOST" build \
	--frontend dockerfile.v0 \
	--local context="$ctx" --local dockerfile="$ctx" \
	--opt build-arg:ENVKIT_BINARY=prebuilt \
	--opt platform="$PLATFORMS" \
	--output "type=image,name=$IMAGE,push=true,registry.insecure=true"
