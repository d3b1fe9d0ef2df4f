#!/usr/bin/env bash
# Rebuilds the Windows gateway and vendors it into the examples (and the
# iiswsgi 0.3 port in tests/data), with a note of how it was built and its
# SHA-256 (tests check the two agree).
# iiswsgi embeds examples/flask's copy for `iiswsgi init` (src/init/mod.rs),
# so a rebuild of iiswsgi after this ships the new gateway to new projects.
#
#   gateway/vendor-examples.sh
set -euo pipefail
cd "$(dirname "$0")/.."
exe=target/windows/iiswsgi-gateway.exe
# A fresh target folder: a folder left by builds with other flags can
# hold build-script output that changes the bytes.
fresh=$(mktemp -d)
trap 'rm -rf "$fresh"' EXIT
IISWSGI_WINDOWS_TARGET_DIR=$fresh gateway/build-windows.sh "$exe" >/dev/null
sum=$(sha256sum "$exe" | cut -d' ' -f1)
version=$(sed -n 's/^version = "\(.*\)"/\1/p' gateway/Cargo.toml | head -1)
rustc=$(/usr/bin/rustc --version)
commit=$(git rev-parse --short HEAD)
# The examples, and the iiswsgi 0.3 port the tests build.
for project in examples/flask examples/pyramid examples/django tests/data/iiswsgi-0.3-pyramid; do
  cp "$exe" "$project/vendor/iiswsgi-gateway.exe"
  cat > "$project/vendor/README.md" <<NOTE
# vendor/iiswsgi-gateway.exe

The FastCGI-to-WSGI gateway of this repository (\`gateway/\`), version
$version, built for Windows x64 on Linux by \`gateway/vendor-examples.sh\`
(which runs \`gateway/build-windows.sh\`) at commit $commit with $rustc
and mingw-w64.

    sha256  $sum

\`iiswsgi build\` bundles it as \`bin/iiswsgi-gateway.exe\`; web.config's
handler points IIS's FastCGI module at it. It loads python3.dll at run time
(IISWSGI_VENV's base Python or IISWSGI_PYTHON_HOME), so the same exe serves
any CPython 3.9 or later. Rebuild it with \`gateway/vendor-examples.sh\`.
NOTE
done
echo "$sum  vendored into examples/{flask,pyramid,django} and tests/data/iiswsgi-0.3-pyramid"
