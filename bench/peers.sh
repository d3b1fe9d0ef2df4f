#!/usr/bin/env bash
# The gateway against uWSGI 2.0 and flup with no web server in the way
# (bench/peers.py says how), driven by bench/loadgen. Installs what it
# needs: Debian's uwsgi-core and uwsgi-plugin-python3, the venv's Flask,
# Django and flup; builds the gateway (shared and static libpython) and the
# load generator in release mode.
#
#   bench/peers.sh
#   BENCH_SECONDS=5 BENCH_ROUNDS=3 BENCH_PROCESSES=2 bench/peers.sh
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v uwsgi >/dev/null || missing+=(uwsgi-core)
[ -e /usr/lib/uwsgi/plugins/python3_plugin.so ] || missing+=(uwsgi-plugin-python3)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# shellcheck source=bench/wsgi_venv.sh
. bench/wsgi_venv.sh
cargo build --release --quiet -p iiswsgi-gateway -p iiswsgi-loadgen
static_lib=$(/usr/bin/python3 -c 'import sysconfig as s; print(s.get_config_var("LIBPL") + "/" + s.get_config_var("LIBRARY"))')
gateway_static=-
if [ -e "$static_lib" ]; then
  IISWSGI_GATEWAY_STATIC_LIBPYTHON=$static_lib CARGO_TARGET_DIR=target/bench-static \
    cargo build --release --quiet -p iiswsgi-gateway
  gateway_static=$PWD/target/bench-static/release/iiswsgi-gateway
fi
echo "uwsgi $(uwsgi --version), $(/usr/bin/python3 --version), $(nproc) cores, $(git rev-parse --short HEAD)"
exec /usr/bin/python3 bench/peers.py "$PWD/target/release/iiswsgi-gateway" "$gateway_static" \
  "$PWD/target/release/fcgi-load" "$venv"
