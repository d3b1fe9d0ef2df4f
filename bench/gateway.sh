#!/usr/bin/env bash
# Gateway benchmark (see bench/gateway.py): iiswsgi-gateway against flup
# under the same Apache mod_fcgid, Flask and Django, 1 and 8 connections,
# and the host's floor (the least a C FastCGI responder can do, bench/floor_responder.c).
#
#   bench/gateway.sh                      # 3 rounds of 5 s per point, 12 processes per app
#   BENCH_SECONDS=10 BENCH_ROUNDS=5 BENCH_PROCESSES=16 bench/gateway.sh
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
[ -x /usr/sbin/apache2 ] || missing+=(apache2)
[ -e /usr/lib/apache2/modules/mod_fcgid.so ] || missing+=(libapache2-mod-fcgid)
command -v wrk >/dev/null || missing+=(wrk)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# shellcheck source=bench/wsgi_venv.sh
. bench/wsgi_venv.sh
chmod -R a+rX "$venv"
cargo build --release --quiet -p iiswsgi-gateway
# "ours.a": the same gateway with Debian's static libpython linked in, as
# python3 has it (gateway/build.rs), in its own target folder.
static_lib=$(/usr/bin/python3 -c 'import sysconfig as s; print(s.get_config_var("LIBPL") + "/" + s.get_config_var("LIBRARY"))')
if [ -e "$static_lib" ]; then
  IISWSGI_GATEWAY_STATIC_LIBPYTHON=$static_lib CARGO_TARGET_DIR=target/bench-static \
    cargo build --release --quiet -p iiswsgi-gateway
  gateway_static=$PWD/target/bench-static/release/iiswsgi-gateway
else
  echo "no $static_lib: ours.a left out" >&2
  gateway_static=
fi
mkdir -p bench/work
gcc -O2 -Wall -Werror -o bench/work/floor-responder bench/floor_responder.c
# shellcheck disable=SC2046 # python3-config prints flags to split
gcc -O2 $(/usr/bin/python3-config --cflags) -o bench/work/python-shared bench/python_shared.c \
  $(/usr/bin/python3-config --ldflags --embed)
chmod a+rx bench/work bench/work/python-shared bench/work/floor-responder
site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
read -r fib_s render_s < <(/usr/bin/python3 bench/interpreter_speed.py "$site")
read -r fib_so render_so < <(bench/work/python-shared bench/interpreter_speed.py "$site")
echo "interpreter build: python3 fib $fib_s s, Django render $render_s s; shared libpython fib $fib_so s, Django render $render_so s" \
  "($(awk "BEGIN{printf \"%.2fx, %.2fx\", $fib_so/$fib_s, $render_so/$render_s}") the time)"
exec "$venv/bin/python" bench/gateway.py "$PWD/target/release/iiswsgi-gateway" "$venv" \
  "$PWD/bench/work/floor-responder" "$PWD/bench/work/python-shared" $gateway_static
