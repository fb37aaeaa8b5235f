# envkit's BuildKit frontend image: FROM scratch and the static envkit
# binary, whose hidden `frontend` command speaks BuildKit's gateway API.
#
# No `# syntax=` line on purpose: the builtin Dockerfile frontend builds it,
# so nothing is pulled. Two ways to get the binary:
#   ENVKIT_BINARY=source (default)  compile it in a Go image (needs GO_IMAGE);
#   ENVKIT_BINARY=prebuilt          copy bin/envkit-<os>-<arch> from the
#                                   context (offline; hack/frontend-image.sh).
# Stages that the chosen one does not reach are neither resolved nor pulled.

ARG ENVKIT_BINARY=source
ARG GO_IMAGE=golang:1.26

FROM ${GO_IMAGE} AS build
ARG VERSION=dev
ARG TARGETOS TARGETARCH
WORKDIR /src
COPY . .
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags "-s -w -X main.version=$VERSION" -o /out/envkit ./cmd/envkit

FROM scratch AS bin-source
COPY --from=build /out/envkit /envkit

FROM scratch AS bin-prebuilt
ARG TARGETOS TARGETARCH
COPY bin/envkit-${TARGETOS}-${TARGETARCH} /envkit

FROM bin-${ENVKIT_BINARY} AS frontend
LABEL moby.buildkit.frontend.network.none="true"
LABEL moby.buildkit.frontend.caps="moby.buildkit.frontend.inputs,moby.buildkit.frontend.subrequests,moby.buildkit.frontend.contexts"
LABEL org.opencontainers.image.title="envkit frontend"
LABEL org.opencontainers.image.source="https://github.com/envkit/envkit"
ENTRYPOINT ["/envkit", "frontend"]
