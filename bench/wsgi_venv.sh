# Sourced by the gateway benchmarks (bench/gateway.sh, bench/peers.sh):
# makes or updates the venv the gateway's tests use, with the apps'
# frameworks and flup (tests/python/wsgi-requirements.txt), for Debian's
# /usr/bin/python3, and sets $venv and PYO3_PYTHON.
/usr/bin/python3 -c 'import ensurepip' 2>/dev/null ||
  { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv python3-dev >/dev/null; }
export PYO3_PYTHON=/usr/bin/python3
pyver=$(/usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
venv=${IISWSGI_TEST_VENV:-/var/tmp/iiswsgi-tests/venv-py$pyver}
[ -x "$venv/bin/python" ] || /usr/bin/python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/python/wsgi-requirements.txt
