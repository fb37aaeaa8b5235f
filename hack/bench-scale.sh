#!/usr/bin/env bash
# make bench-scale: `envkit lock` of a 30-package environment against the
# conda-forge-sized fixture channel (make big-channel), served over HTTP on
# 127.0.0.1 by envkit-dev, from its sharded and its monolithic form, first
# with an empty cache, then with the cache of the first run. Prints a
# markdown table (docs/benchmarks.md, "Channels at conda-forge scale"):
# CPU time (user+sys: wall time on a shared machine is noise), max RSS,
# and what `envkit lock -v` says it read and transferred, with that as a
# share of the uncompressed repodata.json bytes. Checks that both forms
# give the same packages.
#
#   hack/bench-scale.sh ENVKIT ENVKIT_DEV BIG_CHANNEL_DIR
set -euo pipefail
envkit=$1 dev=$2 big=$3
[ -f "$big/stamp" ] || { echo "bench-scale: no big channel in $big (make big-channel)" >&2; exit 1; }

work=$(mktemp -d)
server=
cleanup() {
	[ -n "$server" ] && kill "$server" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

# A free port: nothing answers on it.
port=
for p in $(seq 18700 18799); do
	if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
done
[ -n "$port" ] || { echo "bench-scale: no free port in 18700-18799" >&2; exit 1; }
"$dev" serve -addr "127.0.0.1:$port" -root "monolithic=$big/monolithic" -root "sharded=$big/sharded" 2>"$work/serve.log" &
server=$!
for _ in $(seq 50); do
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
	sleep 0.1
done

json=$(cat "$big"/monolithic/*/repodata.json | wc -c)
echo "| form | cache | CPU s (user+sys) | max RSS | channels read (envkit lock -v) | transferred / uncompressed repodata.json |"
echo "|---|---|---|---|---|---|"
for form in sharded monolithic; do
	dir=$work/$form
	mkdir -p "$dir/cache"
	{
		echo "channels: [http://127.0.0.1:$port/$form]"
		echo "dependencies: [python=3.11, numpy, scipy, pandas, matplotlib-base, scikit-learn, pyarrow, requests,"
		echo "  cython, numba, pytorch, tensorflow, xgboost, lightgbm, statsmodels, sympy, networkx, h5py, xarray,"
		echo "  dask, jupyterlab, ipython, pyyaml, click, tqdm, protobuf, grpcio, mlflow, scikit-image, pillow]"
	} >"$dir/environment.yml"
	for cache in empty warm; do
		rm -f "$dir/conda-lock.yml"
		ENVKIT_CACHE_DIR=$dir/cache /usr/bin/time -v -o "$dir/time" \
			"$envkit" lock -v "$dir/environment.yml" >/dev/null 2>"$dir/stderr" ||
			{ cat "$dir/stderr" >&2; exit 1; }
		cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {printf "%.2f", s}' "$dir/time")
		rss=$(awk -F': ' '/Maximum resident/ {printf "%d MB", $2 / 1024}' "$dir/time")
		read=$(sed -n 's/^envkit: channels for linux-64: //p' "$dir/stderr")
		share=$(echo "$read" | awk -v json="$json" '{
			for (i = 1; i <= NF; i++) if ($(i+1) == "transferred") {
				n = $(i-1); u = $i
				n *= (u == "MB") ? 1e6 : (u == "kB") ? 1e3 : 1
				printf "%.2f%%", 100 * n / json
			}
		}')
		echo "| $form | $cache | $cpu | $rss | $read | $share |"
	done
done
# The same records: names, versions and archive hashes (URLs name the form).
a=$(grep -E '^- name:|^  version:|^    sha256:' "$work/sharded/conda-lock.yml" | md5sum)
b=$(grep -E '^- name:|^  version:|^    sha256:' "$work/monolithic/conda-lock.yml" | md5sum)
if [ "$a" != "$b" ]; then
	echo "bench-scale: the sharded and monolithic forms gave different locks" >&2
	diff "$work/sharded/conda-lock.yml" "$work/monolithic/conda-lock.yml" >&2 || true
	exit 1
fi
echo
echo "uncompressed repodata.json: $((json / 1000000)) MB; both forms locked the same $(grep -c '^- name:' "$work/sharded/conda-lock.yml") packages"
