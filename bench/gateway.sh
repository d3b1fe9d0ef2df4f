#!/usr/bin/env bash
# Gateway benchmark (see bench/gateway.py): iiswsgi-gateway against flup
# under the same Apache mod_fcgid, Flask and Django, 1 and 8 connections.
#
#   bench/gateway.sh                      # 8 s per point, 8 processes per app
#   BENCH_SECONDS=20 BENCH_PROCESSES=8 bench/gateway.sh
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
[ -x /usr/sbin/apache2 ] || missing+=(apache2)
[ -e /usr/lib/apache2/modules/mod_fcgid.so ] || missing+=(libapache2-mod-fcgid)
command -v wrk >/dev/null || missing+=(wrk)
command -v curl >/dev/null || missing+=(curl)
/usr/bin/python3 -c 'import ensurepip' 2>/dev/null || missing+=(python3-venv python3-dev)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
export PYO3_PYTHON=/usr/bin/python3
pyver=$(/usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
venv=${IISWSGI_TEST_VENV:-/var/tmp/iiswsgi-tests/venv-py$pyver}
[ -x "$venv/bin/python" ] || /usr/bin/python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/python/wsgi-requirements.txt
chmod -R a+rX "$venv"
cargo build --release --quiet -p iiswsgi-gateway
exec "$venv/bin/python" bench/gateway.py "$PWD/target/release/iiswsgi-gateway" "$venv"
