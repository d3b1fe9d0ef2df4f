"""A plain WSGI app that reports what it sees, for the interpreter and
Windows-tier tests: the interpreter (/), an upload's SHA-256 (/upload), a
streamed body (/stream?n=K), and a marker that the code is this version
(MESSAGE, which tests rewrite to see a reload). At exit it leaves
atexit-ran in its folder, so a test can see atexit functions ran."""

import atexit
import hashlib
import json
import os
import sys

MESSAGE = "probe v1"
HERE = os.path.dirname(os.path.abspath(__file__))


@atexit.register
def _mark_exit():
    with open(os.path.join(HERE, "atexit-ran"), "w") as f:
        f.write("%d\n" % os.getpid())


def app(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path == "/upload":
        digest, size = hashlib.sha256(), 0
        stream = environ["wsgi.input"]
        while True:
            block = stream.read(65536)
            if not block:
                break
            digest.update(block)
            size += len(block)
        body = ("%s %d" % (digest.hexdigest(), size)).encode()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [body]
    if path == "/stream":
        n = int(environ.get("QUERY_STRING") or "3")
        start_response("200 OK", [("Content-Type", "text/plain")])
        return ("chunk %d\n" % i for i in range(n))
    if path == "/message":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [MESSAGE.encode()]
    body = json.dumps(
        {
            "path": sys.path,
            "prefix": sys.prefix,
            "base_prefix": sys.base_prefix,
            "executable": sys.executable,
            "version": sys.version,
            "launcher": os.environ.get("__PYVENV_LAUNCHER__"),
            "script_name": environ.get("SCRIPT_NAME"),
            "path_info": path,
        }
    ).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]
