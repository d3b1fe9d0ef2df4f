#!/usr/bin/env bash
# Builds a bundled example package on a fresh machine with cargo and
# Python 3: examples/build.sh [pyramid|flask|django] (default pyramid).
#
# The examples bundle their requirements as Windows wheels, which needs uv
# (to resolve them for Windows) and pip (to download them). When uv is not
# on PATH and IISWSGI_UV is unset, uv is installed into a venv under
# target/ (nothing outside the checkout is touched).
set -euo pipefail
cd "$(dirname "$0")/.."
example=${1:-pyramid}
if [ ! -f "examples/$example/iiswsgi.toml" ]; then
  echo "examples/build.sh: no examples/$example/iiswsgi.toml (try pyramid, flask or django)" >&2
  exit 2
fi
if [ -z "${IISWSGI_UV:-}" ] && ! command -v uv >/dev/null 2>&1; then
  tools=target/example-tools
  if [ ! -x "$tools/bin/uv" ]; then
    python3 -m venv "$tools"
    "$tools/bin/python" -m pip install --quiet --disable-pip-version-check "uv==0.13.9"
  fi
  export IISWSGI_UV="$PWD/$tools/bin/uv" IISWSGI_PIP_PYTHON="$PWD/$tools/bin/python"
fi
exec cargo run --release -- --manifest-path "examples/$example/iiswsgi.toml" build
