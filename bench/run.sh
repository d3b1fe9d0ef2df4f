#!/usr/bin/env bash
# Benchmark: `iiswsgi build` against Info-ZIP `zip -r -X -6`, `7z a -tzip
# -mx=5 -mmt=on` and Python's zipfile (ZIP_DEFLATED, the old tool's method),
# on the same files in the same run. Prints median wall time, peak RSS and
# output size per tool, ratios to iiswsgi, no-op and one-file-changed
# rebuilds, and iiswsgi's scaling over 1/4, 1/2 and all of the large corpus.
#
#   bench/run.sh                 # both corpora, 3 runs each
#   BENCH_RUNS=5 bench/run.sh
#   BENCH_LARGE_FILES=5000 BENCH_LARGE_BYTES=100000000 bench/run.sh   # smaller
#
# Work files go to bench/work/ (gitignored). Needs network for PyPI once.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${BENCH_RUNS:-3}
large_files=${BENCH_LARGE_FILES:-50000}
large_bytes=${BENCH_LARGE_BYTES:-1000000000}
work=$PWD/bench/work
mkdir -p "$work"

missing=()
command -v zip >/dev/null || missing+=(zip)
command -v 7z >/dev/null || missing+=(p7zip-full)
[ -x /usr/bin/time ] || missing+=(time)
if [ ${#missing[@]} -gt 0 ]; then
  echo "bench: installing ${missing[*]}" >&2
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
cargo build --release --quiet
iiswsgi=$PWD/target/release/iiswsgi

# Corpus 1: a Wagtail (Django) project with its dependencies installed into
# the app folder from PyPI, plus the wheels themselves.
django=$work/django
if [ ! -d "$django/app/site-packages/wagtail" ]; then
  rm -rf "$django" && mkdir -p "$django/app"
  python3 -m pip install --quiet --disable-pip-version-check --target "$django/app/site-packages" 'wagtail==6.3.*'
  python3 -m pip download --quiet --disable-pip-version-check --only-binary=:all: -d "$django/app/wheels" 'wagtail==6.3.*'
  python3 - "$django/app" <<'PY'
import sys, os
os.makedirs(os.path.join(sys.argv[1], "mysite"), exist_ok=True)
open(os.path.join(sys.argv[1], "mysite", "wsgi.py"), "w").write("from django.core.wsgi import get_wsgi_application\napplication = get_wsgi_application()\n")
PY
fi
# Corpus 2: generated, ~1 GB in 50,000 files, in quarters.
large=$work/large
if [ ! -f "$large/.done-$large_files-$large_bytes" ]; then
  rm -rf "$large" && mkdir -p "$large/app"
  python3 bench/make_corpus.py "$large/app" "$large_files" "$large_bytes"
  touch "$large/.done-$large_files-$large_bytes"
fi

manifest() { # folder name include...
  local dir=$1 name=$2; shift 2
  local inc; inc=$(printf '"%s",' "$@")
  printf '[app]\nname = "%s"\nversion = "1"\nfolder = "app"\n[files]\ninclude = [%s]\n' "$name" "${inc%,}" > "$dir/iiswsgi.toml"
}
manifest "$django" Django 'app/**'
manifest "$large" Large 'app/**'

# timed CMD...: runs CMD once; sets t (wall seconds, to the millisecond:
# /usr/bin/time's own figure has only two decimals, too coarse for a no-op)
# and m (max RSS, KB).
timed() {
  local start end
  start=$(date +%s%N)
  /usr/bin/time -f "%M" -o "$work/time.txt" "$@" >/dev/null 2>"$work/stderr.txt" || { cat "$work/stderr.txt" >&2; exit 1; }
  end=$(date +%s%N)
  t=$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.3f", (b - a) / 1e9}')
  read -r m < "$work/time.txt"
}

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# measure LABEL OUTPUT CMD...: median wall seconds, max RSS (MB), output bytes
measure() {
  local label=$1 out=$2; shift 2
  local times=() rss=0 t m
  for _ in $(seq "$runs"); do
    rm -f "$out"
    timed "$@"
    times+=("$t"); (( m > rss )) && rss=$m
  done
  local size; size=$(stat -c %s "$out")
  echo "$label $(median "${times[@]}") $((rss / 1024)) $size"
}

report() { # corpus
  local corpus=$1 dir=$work/$1 rows=()
  local files bytes
  files=$(find "$dir/app" -type f | wc -l); bytes=$(du -sb "$dir/app" | cut -f1)
  echo
  echo "== $corpus corpus: $files files, $((bytes / 1000000)) MB; median of $runs runs, $(nproc) cores"
  local name; name=$(sed -n 's/^name = "\(.*\)"/\1/p' "$dir/iiswsgi.toml")
  rows+=("$(measure iiswsgi "$dir/dist/$name-1.msdeploy.zip" "$iiswsgi" --manifest-path "$dir/iiswsgi.toml" build --force -q)")
  rows+=("$(cd "$dir" && measure 'zip-6' "$PWD/out-zip.zip" zip -q -r -X -6 "$PWD/out-zip.zip" app)")
  rows+=("$(cd "$dir" && measure '7z-mx5-mmt' "$PWD/out-7z.zip" 7z a -bd -tzip -mx=5 -mmt=on "$PWD/out-7z.zip" app)")
  rows+=("$(measure 'python-zipfile' "$dir/out-py.zip" python3 bench/zipfile_peer.py "$dir/app" "$dir/out-py.zip")")
  read -r _ base_t base_m base_s <<< "${rows[0]}"
  printf '%-16s %10s %10s %14s %12s %10s\n' tool 'time(s)' 'RSS(MB)' 'size(bytes)' 'time/iiswsgi' 'size/zip'
  read -r _ _ _ zip_s <<< "${rows[1]}"
  for row in "${rows[@]}"; do
    read -r l t m s <<< "$row"
    printf '%-16s %10s %10s %14s %12s %10s\n' "$l" "$t" "$m" "$s" \
      "$(awk -v a="$t" -v b="$base_t" 'BEGIN {printf "%.2fx", a / b}')" \
      "$(awk -v a="$s" -v b="$zip_s" 'BEGIN {printf "%.3f", a / b}')"
  done
  # No-op (median of as many runs, after one that writes the record) and
  # one-file-changed rebuilds.
  "$iiswsgi" --manifest-path "$dir/iiswsgi.toml" build -q
  local noops=() noop_m=0 t m
  for _ in $(seq "$runs"); do
    timed "$iiswsgi" --manifest-path "$dir/iiswsgi.toml" build -q
    noops+=("$t"); (( m > noop_m )) && noop_m=$m
  done
  local noop_t; noop_t=$(median "${noops[@]}")
  # The same with the tree listed again, as after a change to a folder
  # (the listing cache is removed, so the walk decides, and saves it again).
  local walks=()
  for _ in $(seq "$runs"); do
    rm -f "$dir"/dist/.*.listing
    timed "$iiswsgi" --manifest-path "$dir/iiswsgi.toml" build -q
    walks+=("$t")
  done
  local walk_t; walk_t=$(median "${walks[@]}")
  local one; one=$(find "$dir/app" -name '*.py' -type f | sort | sed -n 1p)
  echo "# changed" >> "$one"
  timed "$iiswsgi" --manifest-path "$dir/iiswsgi.toml" build -q
  local one_t=$t
  echo "no-op rebuild:      ${noop_t}s ($(awk -v a="$noop_t" -v b="$base_t" 'BEGIN {printf "%.1f%%", 100 * a / b}') of a full build; median of $runs), RSS $((noop_m / 1024)) MB"
  echo "no-op, tree listed: ${walk_t}s ($(awk -v a="$walk_t" -v b="$base_t" 'BEGIN {printf "%.1f%%", 100 * a / b}') of a full build; median of $runs; no listing cache)"
  echo "one file changed:   ${one_t}s ($(awk -v a="$one_t" -v b="$base_t" 'BEGIN {printf "%.1f%%", 100 * a / b}') of a full build)"
}

report django
report large

echo
echo "== scaling: iiswsgi on parts of the large corpus"
base=""
for part in 1 2 4; do
  inc=(); for q in $(seq 0 $((part - 1))); do inc+=("app/q$q/**"); done
  manifest "$large" "Large$part" "${inc[@]}"
  row=$(measure "q$part" "$large/dist/Large$part-1.msdeploy.zip" "$iiswsgi" --manifest-path "$large/iiswsgi.toml" build --force -q)
  read -r _ t m s <<< "$row"
  [ -z "$base" ] && base=$t
  printf '%d/4 of the corpus: %6ss  (%.2f x the 1/4 time; linear would be %d.00), RSS %s MB, %s bytes\n' \
    "$part" "$t" "$(awk -v a="$t" -v b="$base" 'BEGIN {print a / b}')" "$part" "$m" "$s"
done
manifest "$large" Large 'app/**'
