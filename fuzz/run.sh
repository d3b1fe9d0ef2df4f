#!/usr/bin/env bash
# Fuzzes every target for a fixed number of runs each (default 200000;
# FUZZ_RUNS overrides; FUZZ_TARGETS picks some):
#   provider_options_decode  the provider-options decoders, from the 64 real values
#   manifest_load            iiswsgi.toml loading and its diagnostics, from the examples
#   xml_readers              the feed tree and the Manifest.xml scan, from the fixtures
# Uses cargo-fuzz (installed here if missing); RUSTC_BOOTSTRAP lets the
# stable toolchain accept the sanitizer flags cargo-fuzz passes.
set -euo pipefail
cd "$(dirname "$0")"
runs=${FUZZ_RUNS:-200000}
targets=${FUZZ_TARGETS:-provider_options_decode manifest_load xml_readers}
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
  esac
}

for target in $targets; do
  seed "$target"
  cargo fuzz run "$target" "corpus/$target" -- -runs="$runs" -max_len=65536 -rss_limit_mb=1024
  echo "fuzz: $target ran $runs inputs without a crash"
done
