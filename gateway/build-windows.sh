#!/usr/bin/env bash
# Cross-builds the gateway for Windows x64 on Linux (Debian packages only,
# no rustup target, no Windows machine):
#
#   gateway/build-windows.sh [OUT.exe]     (default: target/windows/iiswsgi-gateway.exe)
#
# rustup cannot download the x86_64-pc-windows-gnu standard library here,
# so Debian's rustc (/usr/bin/rustc, from rustc-web) compiles it from
# rust-web-src with -Zbuild-std, and mingw-w64 links. pyo3 writes the
# python3.dll import library with mingw's dlltool (generate-import-lib):
# the exe imports only the stable ABI, so it serves any CPython 3.9+.
#
# Reproducible: the same sources give the same bytes (no PE timestamp,
# paths remapped, one codegen unit). With IISWSGI_INSTALL_TOOLCHAIN=1 (the
# test command sets it when run as root) the Debian packages are installed
# when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=${1:-$root/target/windows/iiswsgi-gateway.exe}

need=()
[ -x /usr/bin/rustc ] && /usr/bin/rustc --version | grep -q . || need+=(rustc-web)
[ -x /usr/bin/cargo ] || need+=(cargo-web)
ls /usr/lib/rustlib/src/rust/library/std >/dev/null 2>&1 || need+=(rust-web-src)
command -v x86_64-w64-mingw32-gcc >/dev/null || need+=(gcc-mingw-w64-x86-64)
if [ ${#need[@]} -gt 0 ]; then
  if [ "${IISWSGI_INSTALL_TOOLCHAIN:-}" = 1 ] && [ "$(id -u)" = 0 ]; then
    echo "build-windows.sh: installing ${need[*]}" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "build-windows.sh: missing Debian packages: ${need[*]} (apt-get install ${need[*]})" >&2
    exit 3
  fi
fi

# The target folder is outside the checkout, under /var/tmp, wherever the
# checkout is. mingw's ld lays out the import tables by the *paths* of the
# files that hold them (its linker script sorts .idata$* input sections by
# file name): mingw-w64's libraries under /usr, and the import libraries
# rustc writes for raw-dylib (windows-sys) and build.rs writes for
# python3.dll, which are under the target folder. A target folder that
# sorts before /usr (a checkout in /check or /tmp) puts the DLLs in another
# order and so gives other bytes; one under /var/tmp sorts after /usr for
# every checkout. One folder per checkout, so two checkouts do not
# rebuild each other's crates.
checkout_key=$(printf %s "$root" | sha256sum | cut -c1-12)
target_dir=${IISWSGI_WINDOWS_TARGET_DIR:-/var/tmp/iiswsgi-windows-build/$checkout_key}
case "$target_dir" in
/var/tmp/*) ;;
*)
  echo "build-windows.sh: IISWSGI_WINDOWS_TARGET_DIR=$target_dir must be under /var/tmp (the exe's bytes depend on where the target folder sorts against /usr)" >&2
  exit 2
  ;;
esac
export RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc
export PYO3_CROSS=1 PYO3_CROSS_PYTHON_VERSION=3.9
# Reproducibility: no link timestamp, and no build paths in the binary.
# The paths are trimmed by cargo (-Ztrim-paths) rather than by
# --remap-path-prefix flags, whose values (this checkout's path) would
# enter every crate's metadata hash and so the bytes.
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUSTFLAGS="-C link-arg=-Wl,--no-insert-timestamp -C strip=symbols"
export CARGO_PROFILE_RELEASE_TRIM_PATHS=all
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 CARGO_PROFILE_RELEASE_LTO=true
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-0}

/usr/bin/cargo build --release --locked -p iiswsgi-gateway \
  -Zbuild-std=std,panic_abort -Ztrim-paths --target x86_64-pc-windows-gnu \
  --target-dir "$target_dir"

mkdir -p "$(dirname "$out")"
tmp=$(mktemp "$(dirname "$out")/.gateway.XXXXXX")
cp "$target_dir/x86_64-pc-windows-gnu/release/iiswsgi-gateway.exe" "$tmp"
chmod 0644 "$tmp"
mv -f "$tmp" "$out"
echo "$(sha256sum "$out" | cut -d' ' -f1)  $out"
