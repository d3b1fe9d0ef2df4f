#!/usr/bin/env bash
# Fuzzes every target for a fixed number of runs each (default 200000;
# FUZZ_RUNS overrides; FUZZ_TARGETS picks some):
#   provider_options_decode  the provider-options decoders, from the 64 real values
#   manifest_load            iiswsgi.toml loading and its diagnostics, from the examples
#   xml_readers              the feed tree and the Manifest.xml scan, from the fixtures
#   fastcgi_server           the gateway's FastCGI server side, from recorded requests
# Uses cargo-fuzz (installed here if missing); RUSTC_BOOTSTRAP lets the
# stable toolchain accept the sanitizer flags cargo-fuzz passes.
set -euo pipefail
cd "$(dirname "$0")"
runs=${FUZZ_RUNS:-200000}
targets=${FUZZ_TARGETS:-provider_options_decode manifest_load xml_readers fastcgi_server}
# The gateway links the libpython of the Python it is built for.
export PYO3_PYTHON=${PYO3_PYTHON:-/usr/bin/python3}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
fixtures=../../shared/fixtures

seed() {
  local corpus=corpus/$1
  mkdir -p "$corpus"
  case $1 in
    provider_options_decode)
      tail -n +2 $fixtures/msdeploy/provider-options.tsv | cut -f3 | split -l 1 - "$corpus/real-b64-"
      for f in "$corpus"/real-b64-*; do
        base64 -d < "$f" | gzip -dc > "${f/real-b64-/real-nrbf-}" || true
      done ;;
    manifest_load)
      for f in ../examples/*/iiswsgi.toml; do cp "$f" "$corpus/$(basename "$(dirname "$f")").toml"; done ;;
    xml_readers)
      find $fixtures/webpi $fixtures/msdeploy $fixtures/iiswsgi-0.3-examples -name '*.xml' -size -256k |
        while read -r f; do cp "$f" "$corpus/$(echo "$f" | tr '/' '_')"; done ;;
    fastcgi_server)
      # What IIS and mod_fcgid send: a GET, a POST whose body comes in
      # pieces, FCGI_GET_VALUES, an abort, two requests on a kept connection.
      python3 - "$corpus" <<'PY'
import struct, sys
def rec(kind, rid, content=b"", pad=0):
    return struct.pack(">BBHHBB", 1, kind, rid, len(content), pad, 0) + content + b"\0" * pad
def pairs(items):
    out = b""
    for k, v in items:
        for x in (k, v):
            out += bytes([len(x)]) if len(x) < 128 else struct.pack(">I", len(x) | 0x80000000)
        out += k + v
    return out
def begin(rid, keep):
    return rec(1, rid, struct.pack(">HB5x", 1, 1 if keep else 0))
get = [(b"REQUEST_METHOD", b"GET"), (b"PATH_INFO", b"/shop/"), (b"APPL_MD_PATH", b"/LM/W3SVC/1/ROOT/shop"), (b"QUERY_STRING", b"a=1")]
post = [(b"REQUEST_METHOD", b"POST"), (b"PATH_INFO", b"/upload"), (b"CONTENT_LENGTH", b"10")]
seeds = {
    "get": begin(1, False) + rec(4, 1, pairs(get), 3) + rec(4, 1) + rec(5, 1),
    "post": begin(1, False) + rec(4, 1, pairs(post)) + rec(4, 1) + rec(5, 1, b"hello") + rec(5, 1, b"world") + rec(5, 1),
    "values": rec(9, 0, pairs([(b"FCGI_MAX_CONNS", b""), (b"FCGI_MPXS_CONNS", b"")])),
    "abort": begin(1, True) + rec(4, 1, pairs(post)) + rec(4, 1) + rec(5, 1, b"hel") + rec(2, 1),
    "kept": begin(1, True) + rec(4, 1, pairs(get)) + rec(4, 1) + rec(5, 1) + begin(2, True) + rec(4, 2, pairs(get)) + rec(4, 2) + rec(5, 2),
}
for name, data in seeds.items():
    open("%s/%s" % (sys.argv[1], name), "wb").write(data)
PY
      ;;
  esac
}

for target in $targets; do
  seed "$target"
  cargo fuzz run "$target" "corpus/$target" -- -runs="$runs" -max_len=65536 -rss_limit_mb=1024
  echo "fuzz: $target ran $runs inputs without a crash"
done
