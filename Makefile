# envkit — see README.md. Tools land in ./bin; services keep their state in
# $(STATE) and fixtures are made in $(FIXTURES) (both reused across runs).
GO       ?= go
BIN      := $(CURDIR)/bin
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
CACHE    ?= $(HOME)/.cache/envkit
STATE    ?= $(CACHE)/services
FIXTURES ?= $(CACHE)/fixtures
DEV      := $(BIN)/envkit-dev

export CGO_ENABLED := 0

.PHONY: all build test unit vet fmt-check bench tools dev services-up services-down fixtures \
	frontend-image integration base-matrix compat demo clean

all: build

# envkit build runs a foreign target's steps with that target's envkit,
# found beside bin/envkit as envkit-linux-ARCH.
CROSS    ?= $(filter-out $(shell $(GO) env GOARCH),amd64 arm64)

build:
	@mkdir -p $(BIN)
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/envkit ./cmd/envkit
	@for a in $(CROSS); do echo "GOARCH=$$a go build -o $(BIN)/envkit-linux-$$a"; \
		GOOS=linux GOARCH=$$a $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/envkit-linux-$$a ./cmd/envkit || exit 1; done

vet:
	$(GO) vet ./...
	$(GO) vet -tags integration ./integration/

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

unit:
	$(GO) test -count=1 ./...

# The test command named in README.md and run by .ci/run: unit tests, then
# the integration tests against real services.
test: fmt-check vet unit integration

# Go benchmarks, then the build figures of docs/benchmarks.md (## Build),
# measured against services started for the purpose and stopped after.
bench: tools build
	$(GO) test -run '^$$' -bench . -benchmem ./...
	@set -e; st=$(CACHE)/bench-services; trap '$(DEV) down -state '"$$st" EXIT; \
	$(DEV) up -state "$$st" -fixtures $(FIXTURES) >/dev/null; $(DEV) bench-build -state "$$st"

# buildkitd, buildctl and docker-buildx at go.mod's versions, the Debian
# packages the services need, and envkit-dev (services and fixtures).
tools: dev
	hack/tools.sh $(BIN)

dev:
	@mkdir -p $(BIN)
	$(GO) build -trimpath -o $(DEV) ./hack/envkit-dev

# Registry, conda channel server and buildkitd on 127.0.0.1, with the
# fixtures pushed; prints their addresses (envkit-dev env prints them again).
services-up: tools build
	$(DEV) up -state $(STATE) -fixtures $(FIXTURES)

services-down:
	@if [ -x $(DEV) ]; then $(DEV) down -state $(STATE); fi

fixtures: services-up

# The conda-forge-sized channel (hack/fixtures/bigchannel.go: 460,000
# linux-64 records, 83 MB of noarch, monolithic and sharded) in
# $(FIXTURES)/big-channel, which services-up then serves as big-channel and
# big-channel-sharded. Too big for make test; made once, then cached.
.PHONY: big-channel
big-channel: dev
	$(DEV) big-channel -fixtures $(FIXTURES)

# Builds on the big channel without a lock (integration TestBigChannel:
# # syntax= with buildctl and buildx, envkit build; sharded and monolithic;
# one digest, one lock, no shard fetched twice). Not part of make test.
.PHONY: scale
scale: tools build big-channel
	ENVKIT_BIN=$(BIN) ENVKIT_FIXTURES=$(FIXTURES) ENVKIT_BIG_CHANNEL=1 $(GO) test -tags integration -count=1 -timeout 60m -run TestBigChannel -v ./integration/

# envkit lock of 30 packages against the big channel over HTTP, sharded and
# monolithic, empty and warm cache: CPU, max RSS, bytes transferred
# (docs/benchmarks.md, "Channels at conda-forge scale"). Not part of make bench.
.PHONY: bench-scale
bench-scale: build dev big-channel
	hack/bench-scale.sh $(BIN)/envkit $(DEV) $(FIXTURES)/big-channel

# The frontend image, built with the BuildKit at BUILDKIT_HOST (default: the
# services') and pushed to IMAGE (default: the services' registry), for
# linux/amd64 and linux/arm64 unless PLATFORMS says otherwise. It builds
# what it needs (buildctl, envkit-dev) itself.
frontend-image: tools build
	@set -e; host=$${BUILDKIT_HOST:-}; image=$${IMAGE:-}; \
	if [ -z "$$host" ] || [ -z "$$image" ]; then eval "$$($(DEV) env -state $(STATE))"; fi; \
	host=$${host:-$${BUILDKIT_HOST:-}}; image=$${image:-$${ENVKIT_REGISTRY:+$$ENVKIT_REGISTRY/envkit/frontend:dev}}; \
	[ -n "$$host" ] && [ -n "$$image" ] || { echo "frontend-image: set BUILDKIT_HOST and IMAGE, or run make services-up" >&2; exit 1; }; \
	BUILDKIT_HOST=$$host BUILDCTL=$(BIN)/buildctl hack/frontend-image.sh $$image

# Tests against real services the harness starts itself (fresh state).
integration: tools build
	ENVKIT_BIN=$(BIN) ENVKIT_FIXTURES=$(FIXTURES) $(GO) test -tags integration -count=1 -timeout 30m ./integration/

# TestBaseMatrix at full width: every base (scratch + static binary,
# busybox without /dev /proc /sys /etc, /opt a symlink, Debian) with every
# definition, route (# syntax=, envkit build) and SOURCE_DATE_EPOCH or not
# (make test runs one cell per base and definition).
base-matrix: tools build
	ENVKIT_BIN=$(BIN) ENVKIT_FIXTURES=$(FIXTURES) ENVKIT_BASE_MATRIX=full $(GO) test -tags integration -count=1 -timeout 60m -run TestBaseMatrix -v ./integration/

# The BuildKit compatibility matrix (hack/compat.sh): each release of
# VERSIONS built from the Go module proxy (cached), three examples built on
# it through # syntax= and envkit build, digests against go.mod's release;
# the table goes into docs/compatibility.md. Not part of make test.
compat: tools build
	hack/compat.sh

# The README's main job, end to end; stops the services it started.
demo: tools build
	hack/demo.sh

clean:
	rm -rf $(BIN)

# The ML-scale fixture (hack/fixtures/mlscale.go: ~300 packages, three of
# 300-800 MB, two environments of 150 sharing 120) in $(FIXTURES)/ml-scale,
# made once, then cached. Not part of make test.
.PHONY: ml-scale
ml-scale: dev
	$(DEV) ml-scale -fixtures $(FIXTURES)

# envkit build against the single-layer baseline (one RUN envkit create)
# on the ML-scale fixture, one run on one builder: docs/benchmarks.md, "At
# ML scale". Takes tens of minutes; not part of make bench.
# COMPRESSION=zstd measures both shapes with zstd layers (its own section).
# Its registry (about 10 GB a run) is removed when it ends.
COMPRESSION ?= gzip
.PHONY: bench-ml
bench-ml: tools build ml-scale
	@set -e; st=$(CACHE)/bench-ml-services; rm -rf "$$st"; trap '$(DEV) down -state '"$$st"'; rm -rf '"$$st" EXIT; \
	$(DEV) up -state "$$st" -fixtures $(FIXTURES) >/dev/null; $(DEV) bench-ml -state "$$st" -fixtures $(FIXTURES) -compression $(COMPRESSION)
