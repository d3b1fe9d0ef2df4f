#!/usr/bin/env bash
# Builds what users install with pip or uv (#22), into OUT:
#   iiswsgi_gateway-<v>-cp39-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
#       the gateway as an abi3 extension module (gateway/module), which
#       `iiswsgi verify` installs into the venv it makes on Linux;
#   iiswsgi-<v>-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
#       the CLI (maturin `bin` bindings), that module's wheel embedded;
#   iiswsgi-<v>.tar.gz, the sdist.
# manylinux2014 (glibc 2.17) through zig as the linker, as maturin does it.
# maturin and zig come from PyPI, pinned, in a venv outside the checkout
# (IISWSGI_WHEEL_TOOLS). Paths of this machine are remapped out of the
# binaries; the wheels' contents are checked by tests/wheel_install.rs.
#
# musllinux is not built here: rustup cannot download the musl standard
# library on these machines (the release workflow builds it on GitHub).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: packaging/wheels.sh OUT_DIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)

tools=${IISWSGI_WHEEL_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/iiswsgi/wheel-tools}
[ -x "$tools/bin/python" ] || python3 -m venv "$tools"
"$tools/bin/pip" install --quiet --disable-pip-version-check maturin==1.9.6 ziglang==0.13.0
export PATH=$tools/bin:$PATH

cargo_home=${CARGO_HOME:-$HOME/.cargo}
export RUSTFLAGS="--remap-path-prefix=$PWD=iiswsgi --remap-path-prefix=$cargo_home=cargo"
# A target folder of its own: other RUSTFLAGS than the tests' builds.
export CARGO_TARGET_DIR=$PWD/target/wheels

rm -f "$out"/iiswsgi_gateway-*.whl "$out"/iiswsgi-*.whl "$out"/iiswsgi-*.tar.gz
maturin build --quiet --release --strip --zig --compatibility manylinux2014 \
  -m gateway/module/Cargo.toml -o "$out" >&2
gateway_wheel=$(ls "$out"/iiswsgi_gateway-*.whl)
IISWSGI_BUNDLE_GATEWAY_WHEEL=$gateway_wheel \
  maturin build --quiet --release --strip --zig --compatibility manylinux2014 -o "$out" >&2
maturin sdist -o "$out" >&2
ls "$out"
