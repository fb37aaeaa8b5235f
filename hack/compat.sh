#!/usr/bin/env bash
# make compat: the BuildKit compatibility matrix (not part of make test).
# For each BuildKit release in VERSIONS it builds buildkitd and buildctl
# from the Go module proxy (each release as its own main module, so its
# replace directives apply; cached in $CACHE/compat/<version>), starts the
# daemon, and builds three examples through their `# syntax=` line with
# that release's buildctl and through `envkit build --addr` — the offline
# example, the offline pip example, and the offline example with a custom
# RUN step — with buildx's remote driver too for BUILDX_VERSIONS, runs a
# command in each image, and compares each manifest digest with go.mod's
# release. The table goes into docs/compatibility.md (## Matrix).
#
#   VERSIONS="v0.12.5 v0.20.2" hack/compat.sh
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=$PWD/bin
CACHE=${CACHE:-$HOME/.cache/envkit}
STATE=${COMPAT_STATE:-$CACHE/compat-services}
FIXTURES=${FIXTURES:-$CACHE/fixtures}
GO=${GO:-go}
EPOCH=1704067200
REFERENCE=$($GO list -m -f '{{.Version}}' github.com/moby/buildkit)
VERSIONS=${VERSIONS-"v0.10.6 v0.12.5 v0.14.1 v0.17.3 v0.20.2 v0.23.2 v0.26.3"}
BUILDX_VERSIONS=${BUILDX_VERSIONS-"v0.12.5 v0.20.2"}
# ENGINE=0 leaves out Debian's Docker Engine (docker.io, installed when
# missing: it embeds BuildKit v0.8, below envkit's floor).
ENGINE=${ENGINE:-1}
DOC=${DOC:-docs/compatibility.md}
EXAMPLES="offline pip run-step"

work=$(mktemp -d)
builders=()
cleanup() {
	for b in "${builders[@]}"; do "$BIN/docker-buildx" rm "$b" >/dev/null 2>&1 || true; done
	for s in "$work"/bk-*; do [ -d "$s" ] && ENVKIT_BUILDKITD_STATE=$s "$BIN/envkit" buildkitd stop >/dev/null 2>&1; done
	[ -f "$work/docker/docker.pid" ] && kill "$(cat "$work/docker/docker.pid")" 2>/dev/null
	"$BIN/envkit-dev" down -state "$STATE" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf 'compat: %s\n' "$*" >&2; }
metadata_digest() { sed -n 's/.*"containerimage.digest": "\(sha256:[0-9a-f]*\)".*/\1/p' "$1"; }
# first_error FILE: the last error line of a failed command's output.
first_error() { grep -E 'error|ERROR|failed' "$1" | tail -1 | cut -c1-200 | tr '|' '/'; }
# older A B: whether release A is older than release B.
older() { [ "$1" != "$2" ] && [ "$(printf '%s\n%s\n' "${1#v}" "${2#v}" | sort -V | head -1)" = "${1#v}" ]; }

# tools VERSION: the directory holding that release's buildkitd and
# buildctl, built when missing; "" and the reason in $work/why-VERSION when
# the release does not build here.
tools() {
	local v=$1 d=$CACHE/compat/$1 src w
	if [ "$v" = "$REFERENCE" ]; then echo "$BIN"; return; fi
	if [ -x "$d/buildkitd" ] && [ -x "$d/buildctl" ]; then echo "$d"; return; fi
	mkdir -p "$d"
	src=$(GOFLAGS=-mod=mod $GO mod download -json "github.com/moby/buildkit@$v" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
	w=$(mktemp -d)
	cp -r "$src/." "$w/" && chmod -R u+w "$w"
	for t in buildkitd buildctl; do
		log "go build $t $v"
		if ! (cd "$w" && CGO_ENABLED=0 GOFLAGS=-mod=mod $GO build -trimpath \
			-ldflags "-X github.com/moby/buildkit/version.Version=$v" -o "$d/$t.new" "./cmd/$t") >"$d/$t.log" 2>&1; then
			echo "does not build with $($GO env GOVERSION): $(grep -v '^go: downloading' "$d/$t.log" | tail -1 | cut -c1-160)" >"$work/why-$v"
			rm -rf "$w"
			return
		fi
		mv "$d/$t.new" "$d/$t"
	done
	rm -rf "$w"
	echo "$d"
}

log "services (state $STATE)"
eval "$("$BIN/envkit-dev" up -state "$STATE" -fixtures "$FIXTURES")" || exit 1
export ENVKIT_CHANNEL_MIRRORS="envkit-fixtures=$ENVKIT_CHANNEL_URL/envkit-fixtures"
export PIP_INDEX_URL="$ENVKIT_CHANNEL_URL/pypi/simple"
frontend=$ENVKIT_REGISTRY/envkit/frontend:compat
log "frontend image $frontend (built on $REFERENCE)"
BUILDKIT_HOST=$BUILDKIT_HOST hack/frontend-image.sh "$frontend" >"$work/frontend.log" 2>&1 || { tail "$work/frontend.log"; exit 1; }

# The examples, locked once; each in a directory of its own with its
# # syntax= copy.
for ex in $EXAMPLES; do
	mkdir -p "$work/$ex"
	case $ex in
	offline) cp examples/offline/environment.yml "$work/$ex/environment.yml" ;;
	pip) cp examples/offline-pip/environment.yml "$work/$ex/environment.yml" ;;
	run-step) sed 's/^conda:$/steps:\n  - RUN mkdir -p \/srv \&\& echo compat > \/srv\/status\nconda:/' examples/offline/environment.yml >"$work/$ex/environment.yml" ;;
	esac
	"$BIN/envkit" lock "$work/$ex/environment.yml" >/dev/null 2>&1 || { log "envkit lock $ex failed"; exit 1; }
	{ echo "# syntax=$frontend"; cat "$work/$ex/environment.yml"; } >"$work/$ex/syntax.yml"
done

# check IMAGE EXAMPLE: a command in the image, on the services' daemon.
check() {
	local script
	case $2 in
	pip) script='envkit-greet > $OUT/result' ;;
	run-step) script='cat /srv/status > $OUT/result && envkit-hello >> $OUT/result' ;;
	*) script='envkit-hello > $OUT/result' ;;
	esac
	"$BIN/envkit-dev" run -state "$STATE" "$1" "$script" >/dev/null 2>&1
}

declare -A digest result
for v in $REFERENCE $VERSIONS; do
	[ -n "${result[$v]+x}" ] && continue
	dir=$(tools "$v")
	if [ -z "$dir" ]; then
		result[$v]="not built: $(cat "$work/why-$v")"
		continue
	fi
	state=$work/bk-$v
	addr=$(ENVKIT_BUILDKITD=$dir/buildkitd ENVKIT_BUILDKITD_STATE=$state ENVKIT_DOCKERHUB_MIRROR=$ENVKIT_REGISTRY \
		"$BIN/envkit" buildkitd start 2>"$work/start-$v.log" | tail -1)
	if [ -z "$addr" ]; then
		result[$v]="does not start: $(tail -1 "$work/start-$v.log" | cut -c1-160)"
		continue
	fi
	log "$v at $addr"
	notes=""
	for ex in $EXAMPLES; do
		ways="buildctl envkit"
		case " $BUILDX_VERSIONS " in *" $v "*) ways="$ways buildx" ;; esac
		for way in $ways; do
			key="$v $ex $way"
			meta=$work/meta-$v-$ex-$way.json
			out=$work/out-$v-$ex-$way.log
			ref=$ENVKIT_REGISTRY/envkit/compat-$ex:${v//./-}-$way
			output="type=image,name=$ref,push=true,oci-mediatypes=true"
			# A RUN step's layer needs the exporter's rewrite-timestamp
			# (v0.13.0 and later), which envkit build asks for by itself.
			if [ "$ex" = run-step ] && ! older "$v" v0.13.0; then output="$output,rewrite-timestamp=true"; fi
			case $way in
			buildctl)
				"$dir/buildctl" --addr "$addr" build --progress plain --frontend dockerfile.v0 \
					--local context="$work/$ex" --local dockerfile="$work/$ex" --opt filename=syntax.yml \
					--opt build-arg:SOURCE_DATE_EPOCH=$EPOCH --opt "build-arg:ENVKIT_CHANNEL_MIRRORS=$ENVKIT_CHANNEL_MIRRORS" \
					--output "$output" --metadata-file "$meta" >"$out" 2>&1 ;;
			envkit)
				"$BIN/envkit" build "$work/$ex/environment.yml" --frozen --addr "$addr" --progress plain \
					--build-arg SOURCE_DATE_EPOCH=$EPOCH --output "type=image,name=$ref,push=true,oci-mediatypes=true" \
					--metadata-file "$meta" >"$out" 2>&1 ;;
			buildx)
				b=envkit-compat-${v//./-}
				"$BIN/docker-buildx" create --name "$b" --driver remote "$addr" >/dev/null 2>&1 && builders+=("$b")
				"$BIN/docker-buildx" build --builder "$b" --progress plain -f "$work/$ex/syntax.yml" \
					--provenance=false --sbom=false --build-arg SOURCE_DATE_EPOCH=$EPOCH \
					--build-arg "ENVKIT_CHANNEL_MIRRORS=$ENVKIT_CHANNEL_MIRRORS" \
					--output "$output" --metadata-file "$meta" "$work/$ex" >"$out" 2>&1 ;;
			esac
			if [ $? -ne 0 ]; then
				digest[$key]="failed: $(first_error "$out")"
			elif ! check "$ref@$(metadata_digest "$meta")" "$ex"; then
				digest[$key]="built, but the command in the image failed"
			else
				digest[$key]=$(metadata_digest "$meta")
			fi
			grep -q "has no rewrite-timestamp" "$out" && notes="no rewrite-timestamp (custom steps' layers keep their build times)"
			log "$key: ${digest[$key]}"
		done
	done
	result[$v]=$notes
	ENVKIT_BUILDKITD_STATE=$state "$BIN/envkit" buildkitd stop >/dev/null 2>&1
done

# Debian's Docker Engine (docker.io): docker buildx build with the default
# docker driver, which runs the frontend on the engine's own BuildKit.
engine_row=""
if [ "$ENGINE" = 1 ]; then
	if ! command -v dockerd >/dev/null; then
		log "apt-get install docker.io"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends docker.io >"$work/docker-install.log" 2>&1
	fi
	if command -v dockerd >/dev/null; then
		mkdir -p "$work/docker"
		sock=unix://$work/docker/docker.sock
		dockerd --data-root "$work/docker/root" --exec-root "$work/docker/exec" --host "$sock" --pidfile "$work/docker/docker.pid" \
			--iptables=false --ip-masq=false --bridge=none --insecure-registry "$ENVKIT_REGISTRY" >"$work/docker/dockerd.log" 2>&1 &
		for _ in $(seq 30); do DOCKER_HOST=$sock /usr/bin/docker version >/dev/null 2>&1 && break; sleep 1; done
		engine=$(DOCKER_HOST=$sock /usr/bin/docker version --format '{{.Server.Version}}' 2>/dev/null)
		log "Docker Engine $engine"
		row="| Docker Engine ${engine:-?} (Debian's docker.io) | buildx, docker driver"
		for ex in $EXAMPLES; do
			out=$work/engine-$ex.log
			if DOCKER_HOST=$sock "$BIN/docker-buildx" build --progress plain -f "$work/$ex/syntax.yml" \
				--build-arg SOURCE_DATE_EPOCH=$EPOCH "$work/$ex" >"$out" 2>&1; then
				row="$row | built"
			elif grep -q "envkit needs BuildKit" "$out"; then
				row="$row | refused in envkit's words"
			else
				row="$row | failed: $(first_error "$out")"
			fi
		done
		msg=$(grep -o 'this BuildKit lacks[^)]*)' "$work/engine-offline.log" | head -1)
		engine_row="$row | ${msg:-} |"
	else
		engine_row="| Docker Engine (Debian's docker.io) | | not installed: $(tail -1 "$work/docker-install.log") | | | |"
	fi
fi

# The table: per release and way, each example's digest against the
# reference's.
table=$work/table.md
{
	echo "## Matrix"
	echo
	echo "\`make compat\` (hack/compat.sh) on $(date -u +%Y-%m-%d), $($GO env GOVERSION), against go.mod's BuildKit $REFERENCE:"
	echo "each release's buildkitd and buildctl built from the Go module proxy, the frontend image built on $REFERENCE,"
	echo "the examples offline (conda), pip (conda + pip wheels) and run-step (conda + a custom RUN step)"
	echo "built through \`# syntax=\` and \`envkit build --addr\` (buildx's remote driver for $BUILDX_VERSIONS),"
	echo "a command run in every image. \"same\" is the image manifest digest of $REFERENCE for that example and way."
	echo
	echo "| BuildKit | way | offline | pip | run-step | notes |"
	echo "|---|---|---|---|---|---|"
	for v in $VERSIONS $REFERENCE; do
		if [ -z "${digest["$v offline buildctl"]+x}" ]; then
			echo "| $v | | | | | ${result[$v]} |"
			continue
		fi
		for way in buildctl envkit buildx; do
			[ -z "${digest["$v offline $way"]+x}" ] && continue
			row="| $v | $way"
			for ex in $EXAMPLES; do
				d=${digest["$v $ex $way"]}
				r=${digest["$REFERENCE $ex $way"]:-${digest["$REFERENCE $ex buildctl"]}}
				case $d in
				sha256:*) if [ "$d" = "$r" ]; then row="$row | same"; else row="$row | differs (${d:7:12})"; fi ;;
				*) row="$row | $d" ;;
				esac
			done
			echo "$row | ${result[$v]} |"
		done
	done
	[ -n "$engine_row" ] && echo "$engine_row"
} >"$table"
cat "$table"
python3 - "$DOC" "$table" <<'PY'
import sys
doc, table = sys.argv[1], open(sys.argv[2]).read()
text = open(doc).read()
a = text.index("## Matrix\n")
b = text.find("\n## ", a + 1)
open(doc, "w").write(text[:a] + table + (text[b:] if b != -1 else ""))
PY
