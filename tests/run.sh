#!/usr/bin/env bash
# The whole test suite, from a fresh clone, with nothing installed by hand:
# installs what the tests use (unzip, xmllint; a Python venv with the
# independent NRBF parser, wsgidav (WebDAV), moto (S3) and Microsoft's blob
# SDK; Azurite from npm), checks formatting and lints, then runs every test.
# The tests start the servers themselves, on 127.0.0.1.
# With CI=true a missing prerequisite fails the tests instead of skipping them.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v unzip >/dev/null || missing+=(unzip)
command -v xmllint >/dev/null || missing+=(libxml2-utils)
command -v python3 >/dev/null || missing+=(python3 python3-venv)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    echo "tests/run.sh: installing ${missing[*]}" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "tests/run.sh: please install ${missing[*]}" >&2
  fi
fi

if [ ! -x tests/.venv/bin/python ]; then
  python3 -m venv tests/.venv
fi
tests/.venv/bin/pip install --quiet --disable-pip-version-check -r tests/python/requirements.txt
if [ ! -x tests/node_modules/.bin/azurite-blob ]; then
  npm install --prefix tests --no-save --no-audit --no-fund --silent azurite@3.37.0
fi

cargo fmt --all -- --check
cargo clippy --all-targets --quiet -- -D warnings
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
cargo test --all-targets 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One closing line for the whole suite, summed over every test binary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "%d passed, %d failed\n", p, f }' "$log"
exit "$status"
