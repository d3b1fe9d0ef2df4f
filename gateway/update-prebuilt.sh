#!/usr/bin/env bash
# Rebuilds the Windows gateway into prebuilt/windows-x64/, the one copy in
# the tree: iiswsgi embeds it (src/gateway/builtin.rs) and bundles it into
# every Python app's package without a [gateway] table. Writes
# prebuilt/README.md with how it was built and its SHA-256.
# tests/gateway_windows.rs rebuilds the exe from gateway/ and fails when
# the bytes differ: run this after changing the gateway, commit the
# gateway's source first, then the exe (the note names that commit).
#
#   gateway/update-prebuilt.sh
set -euo pipefail
cd "$(dirname "$0")/.."
exe=target/windows/iiswsgi-gateway.exe
# A fresh target folder: a folder left by builds with other flags can
# hold build-script output that changes the bytes. Under /var/tmp, as
# build-windows.sh requires (it says why).
fresh=$(mktemp -d /var/tmp/iiswsgi-windows-prebuilt.XXXXXX)
trap 'rm -rf "$fresh"' EXIT
IISWSGI_WINDOWS_TARGET_DIR=$fresh gateway/build-windows.sh "$exe" >/dev/null
sum=$(sha256sum "$exe" | cut -d' ' -f1)
version=$(sed -n 's/^version = "\(.*\)"/\1/p' gateway/Cargo.toml | head -1)
rustc=$(/usr/bin/rustc --version)
commit=$(git rev-parse --short HEAD)
mkdir -p prebuilt/windows-x64
cp "$exe" prebuilt/windows-x64/iiswsgi-gateway.exe
cat > prebuilt/README.md <<NOTE
# prebuilt/windows-x64/iiswsgi-gateway.exe

The FastCGI-to-WSGI gateway of this repository (\`gateway/\`), version
$version, built for Windows x64 on Linux by \`gateway/update-prebuilt.sh\`
(which runs \`gateway/build-windows.sh\`) from the gateway's source at
commit $commit, with $rustc and mingw-w64.

    sha256  $sum

iiswsgi embeds it (\`src/gateway/builtin.rs\`): \`iiswsgi build\` bundles it
as \`bin/iiswsgi-gateway.exe\` into every Python app without a \`[gateway]\`
table, and web.config's handler points IIS's FastCGI module at it. It loads
python3.dll at run time (IISWSGI_VENV's base Python or IISWSGI_PYTHON_HOME),
so the same exe serves any CPython 3.9 or later. The tests rebuild it from
\`gateway/\` and compare the bytes; refresh it with
\`gateway/update-prebuilt.sh\`.
NOTE
echo "$sum  prebuilt/windows-x64/iiswsgi-gateway.exe"
