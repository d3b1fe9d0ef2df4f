#!/usr/bin/env bash
# Builds what users install with pip or uv (#22), into OUT:
#   iiswsgi_gateway-<v>-cp39-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
#       the gateway as an abi3 extension module (gateway/module), which
#       `iiswsgi verify` installs into the venv it makes on Linux;
#   iiswsgi-<v>-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
#       the CLI (maturin `bin` bindings), that module's wheel embedded;
#   iiswsgi-<v>-py3-none-win_amd64.whl
#       the CLI for Windows x64 (no module inside: a Windows machine serves
#       with IIS, or verifies with --windows);
#   iiswsgi-<v>.tar.gz, the sdist.
# manylinux2014 (glibc 2.17) through zig as the linker, as maturin does it.
# Windows as the gateway's exe is built (gateway/build-windows.sh): rustup
# cannot download the Windows standard library here, so Debian's rustc
# builds it (-Zbuild-std) and mingw-w64 links; those Debian packages must
# be there (the test command installs them first).
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
tmp_out=$(mktemp -d "$out/.building.XXXXXX")
trap 'rm -rf "$tmp_out"' EXIT
maturin build --quiet --release --strip --zig --compatibility manylinux2014 \
  -m gateway/module/Cargo.toml -o "$tmp_out" >&2
gateway_wheel=$(ls "$tmp_out"/iiswsgi_gateway-*.whl)
IISWSGI_BUNDLE_GATEWAY_WHEEL=$gateway_wheel \
  maturin build --quiet --release --strip --zig --compatibility manylinux2014 -o "$tmp_out" >&2
CARGO=/usr/bin/cargo RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 CARGO_UNSTABLE_BUILD_STD=std,panic_abort \
  CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc CARGO_TARGET_DIR=$PWD/target/wheels-windows \
  maturin build --quiet --release --strip --target x86_64-pc-windows-gnu -o "$tmp_out" >&2
maturin sdist -o "$tmp_out" >&2
# All or nothing: a failed build leaves no wheel behind.
mv "$tmp_out"/* "$out"/
ls "$out"
