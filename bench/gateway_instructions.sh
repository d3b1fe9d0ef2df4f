#!/usr/bin/env bash
# Instructions the gateway executes per request (valgrind's callgrind
# counts them: the same count for the same binary and input, whatever else
# the machine does, unlike timings on a shared VM). The gateway serves the
# plain WSGI hello world on a Unix socket under callgrind; a client sends
# N and then 2N requests over one connection; the difference of the two
# totals over N is the cost of one request, with start-up taken out.
#
#   bench/gateway_instructions.sh [N]        (default 3000)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-3000}
command -v valgrind >/dev/null || { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null; }
PYO3_PYTHON=/usr/bin/python3 cargo build --release --quiet -p iiswsgi-gateway
work=$(mktemp -d)
trap 'pkill -f "callgrind.*$work" 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/app/bin"
cp target/release/iiswsgi-gateway "$work/app/bin/"
cat > "$work/app/app.py" <<'PY'
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "13")])
    return [b"Hello, World!"]
PY
echo '<?xml version="1.0"?><configuration><appSettings><add key="WSGI_HANDLER" value="app.app"/><add key="WSGI_RESTART_FILE_REGEX" value=""/></appSettings></configuration>' > "$work/app/web.config"
total() { # requests -> instructions of the whole run
  local sock=$work/s.sock out=$work/cg.$1
  rm -f "$sock"
  # A fixed hash seed: dict probing, and so the count, is the same each run.
  # The listening socket on fd 0, as mod_fcgid starts it: one process
  # (--bind would add a supervisor, and callgrind would count only it).
  PYTHONHASHSEED=0 python3 -c 'import os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1]); s.listen(64); os.dup2(s.fileno(), 0)
os.execvp(sys.argv[2], sys.argv[2:])' "$sock" valgrind --tool=callgrind --callgrind-out-file="$out" \
    "$work/app/bin/iiswsgi-gateway" --app-dir "$work/app" >"$work/vg.log" 2>&1 &
  local pid=$!
  for _ in $(seq 200); do [ -S "$sock" ] && break; sleep 0.1; done
  python3 bench/fcgi_get.py "$sock" "$1" >/dev/null
  kill -INT "$pid"; wait "$pid" || true
  callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}'
}
a=$(total "$n")
b=$(total $((2 * n)))
echo "gateway instructions per request (plain WSGI app, callgrind): $(( (b - a) / n ))"
