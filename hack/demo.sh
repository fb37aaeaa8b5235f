#!/usr/bin/env bash
# make demo: the README's main job, offline and end to end. Starts the local
# services (registry, conda channel, buildkitd) with their own state, builds
# examples/offline/environment.yml three ways — envkit build (frontend in-process),
# buildctl through its `# syntax=` line, docker buildx through the same
# line — and examples/offline-pip (conda + pip wheels) with envkit build,
# runs a command in each image and prints the hashes and digests.
# Idempotent; stops the services it started, whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$PWD/bin
CACHE=${CACHE:-$HOME/.cache/envkit}
STATE=${DEMO_STATE:-$CACHE/demo-services}
FIXTURES=${FIXTURES:-$CACHE/fixtures}
EPOCH=1704067200

work=$(mktemp -d)
builder=envkit-demo-$$
cleanup() {
	"$BIN/docker-buildx" rm "$builder" >/dev/null 2>&1 || true
	"$BIN/envkit-dev" down -state "$STATE" || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { printf '\n==> %s\n' "$*"; }
# metadata_digest FILE: the image digest a --metadata-file records.
metadata_digest() { sed -n 's/.*"containerimage.digest": "\(sha256:[0-9a-f]*\)".*/\1/p' "$1"; }

step "services (state $STATE)"
eval "$("$BIN/envkit-dev" up -state "$STATE" -fixtures "$FIXTURES")"
echo "registry $ENVKIT_REGISTRY, channels $ENVKIT_CHANNEL_URL, BuildKit $BUILDKIT_HOST"
export BUILDKIT_HOST

cp examples/offline/environment.yml "$work/environment.yml"
# The example names its channel; the lock reads it from the local server.
export ENVKIT_CHANNEL_MIRRORS="envkit-fixtures=$ENVKIT_CHANNEL_URL/envkit-fixtures"
step "envkit lock"
"$BIN/envkit" lock "$work/environment.yml"
hash=$("$BIN/envkit" hash "$work/environment.yml")

repo=$ENVKIT_REGISTRY/envkit/demo
step "envkit build (frontend in-process) --push $repo"
"$BIN/envkit" build "$work/environment.yml" --push "$repo" --progress plain \
	--build-arg SOURCE_DATE_EPOCH=$EPOCH --metadata-file "$work/envkit.json"
digest=$(metadata_digest "$work/envkit.json")

step "run a command in $repo@$digest"
"$BIN/envkit-dev" run -state "$STATE" "$repo@$digest" \
	'{ envkit-hello; python -c "import sys; print(sys.version.split()[0])"; echo "$DEMO_GREETING"; ls "$CONDA_PREFIX/conda-meta" | grep -c json; } > $OUT/result'

frontend=$ENVKIT_REGISTRY/envkit/frontend:dev
step "frontend image $frontend"
hack/frontend-image.sh "$frontend"
{ echo "# syntax=$frontend"; cat "$work/environment.yml"; } > "$work/syntax.yml"

# No rewrite-timestamp: the example has no custom steps, and every layer
# envkit writes carries SOURCE_DATE_EPOCH already.
step "buildctl build --frontend dockerfile.v0 (# syntax= line)"
"$BIN/buildctl" --addr "$BUILDKIT_HOST" build --progress plain --frontend dockerfile.v0 \
	--local context="$work" --local dockerfile="$work" --opt filename=syntax.yml \
	--opt build-arg:SOURCE_DATE_EPOCH=$EPOCH \
	--output "type=image,name=$repo:buildctl,push=true,oci-mediatypes=true" \
	--metadata-file "$work/buildctl.json"
digest_buildctl=$(metadata_digest "$work/buildctl.json")

step "docker buildx build (remote driver, # syntax= line)"
"$BIN/docker-buildx" create --name "$builder" --driver remote "$BUILDKIT_HOST" >/dev/null
"$BIN/docker-buildx" build --builder "$builder" --progress plain -f "$work/syntax.yml" \
	--provenance=false --sbom=false --build-arg SOURCE_DATE_EPOCH=$EPOCH \
	--output "type=image,name=$repo:buildx,push=true,oci-mediatypes=true" \
	--metadata-file "$work/buildx.json" "$work"
digest_buildx=$(metadata_digest "$work/buildx.json")

# The same with a pip part: wheels from the fixture index, found through
# pip's own PIP_INDEX_URL, one layer each on the finished conda environment.
mkdir "$work/pip"
cp examples/offline-pip/environment.yml "$work/pip/environment.yml"
export PIP_INDEX_URL="$ENVKIT_CHANNEL_URL/pypi/simple"
step "envkit lock + build examples/offline-pip (conda + pip wheels)"
"$BIN/envkit" lock "$work/pip/environment.yml"
hash_pip=$("$BIN/envkit" hash "$work/pip/environment.yml")
"$BIN/envkit" build "$work/pip/environment.yml" --push "$repo-pip" --progress plain \
	--build-arg SOURCE_DATE_EPOCH=$EPOCH --metadata-file "$work/pip.json"
digest_pip=$(metadata_digest "$work/pip.json")
step "run a command in $repo-pip@$digest_pip"
"$BIN/envkit-dev" run -state "$STATE" "$repo-pip@$digest_pip" \
	'set -e; { envkit-greet; python -m pip list 2>/dev/null | grep -E "^(envkit-|pip )"; echo "$DEMO_GREETING"; } > $OUT/result'

step "result"
echo "definition hash   $hash"
echo "envkit build      $repo@$digest"
echo "buildctl (syntax) $repo:buildctl@$digest_buildctl"
echo "buildx (syntax)   $repo:buildx@$digest_buildx"
echo "with pip: hash    $hash_pip"
echo "with pip: image   $repo-pip@$digest_pip"
if [ "$digest" = "$digest_buildctl" ] && [ "$digest" = "$digest_buildx" ]; then
	echo "the three builds give the same image"
else
	echo "the builds differ" >&2
	exit 1
fi
