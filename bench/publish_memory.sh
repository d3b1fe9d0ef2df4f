#!/usr/bin/env bash
# Publish memory: peak RSS and time of `iiswsgi publish` of one large
# package (default 1.5 GiB of incompressible bytes) to a WebDAV server
# (wsgidav) and to S3 (moto), against the usual peers in the same run:
# `curl --upload-file` (one streamed PUT) and boto3's `upload_file`
# (multipart). Prints the figures and our/peer ratios. Publish also reads
# the package back to verify it, which the peers do not.
#
#   bench/publish_memory.sh
#   BENCH_PUBLISH_MB=256 bench/publish_memory.sh      # smaller
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
venv=$root/tests/.venv/bin
mb=${BENCH_PUBLISH_MB:-1536}
work=$PWD/bench/work/publish
rm -rf "$work"
mkdir -p "$work/project" "$work/dav"
[ -x /usr/bin/time ] || { apt-get update -qq >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null; }
[ -x tests/.venv/bin/python ] || python3 -m venv tests/.venv
tests/.venv/bin/pip install --quiet --disable-pip-version-check -r tests/python/requirements.txt
cargo build --release --quiet -p iiswsgi
iiswsgi=$PWD/target/release/iiswsgi
port() { "$venv/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

cd "$work/project"
printf '[app]\nname = "Big"\nversion = "1"\n[files]\ninclude = ["blob.bin"]\n' > iiswsgi.toml
# The same app for S3, whose public URL the feed must be told.
{ cat iiswsgi.toml; printf '[feed]\nurl = "https://downloads.example.org/ours/big.webpi.xml"\npackage-url = "https://downloads.example.org/ours/{file}"\n'; } > iiswsgi-s3.toml
head -c "$((mb << 20))" /dev/urandom > blob.bin
"$iiswsgi" -q build
zip=dist/Big-1.msdeploy.zip
echo "package: $(du -h "$zip" | cut -f1)"

dav_port=$(port); s3_port=$(port)
"$venv/wsgidav" --host 127.0.0.1 --port "$dav_port" --auth anonymous --root "$work/dav" >/dev/null 2>&1 &
dav=$!
"$venv/moto_server" -H 127.0.0.1 -p "$s3_port" >/dev/null 2>&1 &
moto=$!
trap 'kill $dav $moto 2>/dev/null || true' EXIT
for p in "$dav_port" "$s3_port"; do
  for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null && break; sleep 0.1; done
done
curl -sS -X PUT "http://127.0.0.1:$s3_port/bucket" >/dev/null
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing-secret AWS_REGION=us-east-1
export AWS_ENDPOINT=http://127.0.0.1:$s3_port AWS_ALLOW_HTTP=true

measure() { # label command... -> "label rss_kib seconds"
  local label=$1; shift
  /usr/bin/time -f "%M %e" -o "$work/time" "$@" >/dev/null 2>"$work/err" || { cat "$work/err"; exit 1; }
  echo "$label $(cat "$work/time")"
}
{
  measure ours-webdav "$iiswsgi" -q publish --target "http://127.0.0.1:$dav_port/ours"
  measure curl-webdav curl -sS -T "$zip" "http://127.0.0.1:$dav_port/peer.zip"
  measure ours-s3 "$iiswsgi" -q --manifest-path iiswsgi-s3.toml publish --target s3://bucket/ours
  measure boto3-s3 "$venv/python" -c "import boto3,sys; boto3.client('s3', endpoint_url='$AWS_ENDPOINT').upload_file('$zip', 'bucket', 'peer.zip')"
} | tee "$work/results"
awk '{ rss[$1] = $2; t[$1] = $3 }
     END {
       printf "\n%-8s %12s %12s %10s %10s\n", "target", "ours MiB", "peer MiB", "ours s", "peer s"
       printf "%-8s %12.1f %12.1f %10.1f %10.1f\n", "webdav", rss["ours-webdav"]/1024, rss["curl-webdav"]/1024, t["ours-webdav"], t["curl-webdav"]
       printf "%-8s %12.1f %12.1f %10.1f %10.1f\n", "s3", rss["ours-s3"]/1024, rss["boto3-s3"]/1024, t["ours-s3"], t["boto3-s3"]
       printf "peak RSS ratio ours/peer: webdav %.2f, s3 %.2f\n", rss["ours-webdav"]/rss["curl-webdav"], rss["ours-s3"]/rss["boto3-s3"]
     }' "$work/results"
