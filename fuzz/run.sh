#!/usr/bin/env bash
# Fuzzes the provider-options decoder for a fixed number of runs
# (default 200000; FUZZ_RUNS overrides), starting from the 64 real values.
# Uses cargo-fuzz (installed here if missing); RUSTC_BOOTSTRAP lets the
# stable toolchain accept the sanitizer flags cargo-fuzz passes.
set -euo pipefail
cd "$(dirname "$0")"
runs=${FUZZ_RUNS:-200000}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1

# Seed corpus: the real values (as attribute text) and their NRBF streams.
corpus=corpus/provider_options_decode
mkdir -p "$corpus"
tail -n +2 ../../shared/fixtures/msdeploy/provider-options.tsv | cut -f3 | split -l 1 - "$corpus/real-b64-"
for f in "$corpus"/real-b64-*; do
  base64 -d < "$f" | gzip -dc > "${f/real-b64-/real-nrbf-}" || true
done

cargo fuzz run provider_options_decode "$corpus" -- -runs="$runs" -max_len=4096 -rss_limit_mb=512
echo "fuzz: provider_options_decode ran $runs inputs without a crash"
