"""WSGI endpoints that exercise every part of PEP 3333 the gateway serves,
each wrapped in wsgiref.validate.validator: a protocol slip by the gateway
raises an AssertionError, which the tests see as a 500."""
import atexit
import hashlib
import json
import os
import sys
import threading
import time
from urllib.parse import parse_qs
from wsgiref.validate import validator

MARKS = os.environ.get("IISWSGI_TEST_MARKS", "")


def mark(name):
    if MARKS:
        with open(os.path.join(MARKS, name), "a") as f:
            f.write("x")


atexit.register(mark, "atexit")

VERSION = "v1"


def hello(environ, start_response):
    body = ("hello from %s %s" % (VERSION, environ["PATH_INFO"])).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def environ_dump(environ, start_response):
    keys = {k: v for k, v in environ.items() if isinstance(v, str)}
    keys["wsgi.version"] = list(environ["wsgi.version"])
    for k in ("wsgi.multithread", "wsgi.multiprocess", "wsgi.run_once", "wsgi.input_terminated"):
        keys[k] = environ.get(k, "absent")
    for k in ("WSGI_HANDLER", "GREETING"):
        keys["os.environ:" + k] = os.environ.get(k)
    keys["cwd"] = os.getcwd()
    keys["sys.path[0]"] = sys.path[0]
    body = json.dumps(keys).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]


def form(environ, start_response):
    size = int(environ.get("CONTENT_LENGTH") or 0)
    fields = parse_qs(environ["wsgi.input"].read(size).decode())
    body = json.dumps({k: v[0] for k, v in fields.items()}).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]


def upload(environ, start_response):
    """SHA-256 of the body, read in pieces (never whole)."""
    h = hashlib.sha256()
    stream = environ["wsgi.input"]
    total = 0
    while True:
        piece = stream.read(65536)
        if not piece:
            break
        total += len(piece)
        h.update(piece)
    body = ("%s %d" % (h.hexdigest(), total)).encode()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body]


def lines(environ, start_response):
    stream = environ["wsgi.input"]
    first = stream.readline()
    rest = list(stream)
    body = json.dumps([first.decode()] + [l.decode() for l in rest]).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]


def stream(environ, start_response):
    """Yields pieces; with ?wait=PATH it waits for PATH to exist before the
    last one, so a test can see the first pieces arrive first."""
    wait = parse_qs(environ["QUERY_STRING"]).get("wait", [None])[0]
    start_response("200 OK", [("Content-Type", "text/plain")])

    def pieces():
        for i in range(3):
            yield ("piece %d\n" % i).encode()
        if wait:
            deadline = time.time() + 20
            while not os.path.exists(wait) and time.time() < deadline:
                time.sleep(0.01)
        yield b"last\n"

    return pieces()


def big(environ, start_response):
    n = int(parse_qs(environ["QUERY_STRING"]).get("mb", ["1"])[0])
    start_response("200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", str(n << 20))])
    block = b"x" * (1 << 20)
    return (block for _ in range(n))


def write_callable(environ, start_response):
    write = start_response("200 OK", [("Content-Type", "text/plain")])
    write(b"written ")
    return [b"and returned"]


class Closing:
    """An iterable whose close() must always be called, even if iteration fails."""

    def __init__(self, fail):
        self.fail = fail

    def __iter__(self):
        yield b"before "
        if self.fail:
            raise RuntimeError("failed mid-body")
        yield b"after"

    def close(self):
        mark("closed")


class Listed:
    """Like Django's HttpResponse: iterates a list of chunks, has close()."""

    def __init__(self, chunks, close_takes=0.0):
        self.chunks = chunks
        self.close_takes = close_takes

    def __iter__(self):
        return iter(self.chunks)

    def close(self):
        time.sleep(self.close_takes)
        mark("closed-listed")


class CloseRaises:
    """A whole body, then a close() that fails."""

    def __iter__(self):
        return iter([b"whole ", b"body"])

    def close(self):
        raise RuntimeError("close failed after the body")


def close_raises(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return CloseRaises()


def listed(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    n = environ["QUERY_STRING"]
    if n == "slow-close":
        return Listed([b"one"], close_takes=0.3)
    return Listed({"0": [], "1": [b"one"], "": [b"one ", b"", b"two"]}[n])


def closing(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return Closing("fail" in environ["QUERY_STRING"])


def raises(environ, start_response):
    raise ValueError("the app failed on purpose")


def exc_info_page(environ, start_response):
    try:
        raise KeyError("boom")
    except KeyError:
        start_response("200 OK", [("Content-Type", "text/plain")])
        start_response("503 Service Unavailable", [("Content-Type", "text/plain")], sys.exc_info())
    return [b"replaced"]


def bad_header(environ, start_response):
    start_response("200 OK", [("Content-Type", b"text/plain")])
    return [b"never"]


def bad_header_name(environ, start_response):
    # ?colon, ?space, ?tab, ?empty: a name no HTTP response may carry.
    name = {"colon": "X-A:b", "space": "X A", "tab": "X\tA", "empty": ""}[environ["QUERY_STRING"]]
    start_response("200 OK", [(name, "v")])
    return [b"never"]


def header_injection(environ, start_response):
    start_response("200 OK", [("X-A", "v\r\nSet-Cookie: stolen=1")])
    return [b"never"]


def status_injection(environ, start_response):
    # ?header: a header smuggled into the status line; ?body: a body.
    status = {
        "header": "200 OK\r\nSet-Cookie: injected=1",
        "body": "200 OK\r\n\r\nINJECTED BODY",
    }[environ["QUERY_STRING"]]
    start_response(status, [("Content-Type", "text/plain")])
    return [b"never"]


def control_in_header(environ, start_response):
    # ?name / ?value: a NUL in either; ?bell: another control character.
    header = {
        "name": ("X-A\x00B", "v"),
        "value": ("X-A", "v\x00w"),
        "bell": ("X-A", "v\x07"),
    }[environ["QUERY_STRING"]]
    start_response("200 OK", [header])
    return [b"never"]


def start_response_misuse(environ, start_response):
    # What PEP 3333 forbids in start_response's use, one per query.
    case = environ["QUERY_STRING"]
    if case == "twice":
        start_response("200 OK", [])
        start_response("200 OK", [])
    elif case == "late-exc-info":
        # After the head went out, exc_info raises the app's error again.
        start_response("200 OK", [("Content-Type", "text/plain")])("part".encode())
        try:
            raise KeyError("late")
        except KeyError:
            start_response("500 Oops", [], sys.exc_info())
    else:
        status, headers = {
            "status-bytes": (b"200 OK", []),
            "not-a-list": ("200 OK", (("X-A", "v"),)),
            "triple": ("200 OK", [("X-A", "v", "w")]),
            "not-latin-1": ("200 OK", [("X-A", "\u20ac")]),
        }[case]
        start_response(status, headers)
    return [b"never"]


def background(environ, start_response):
    """8 MiB in 8 KiB writes while a thread of the app ticks every 5 ms;
    the last line says how often it ticked while the body went out (a
    client that does not read makes the writes block)."""
    ticks = [0]
    stop = threading.Event()

    def tick():
        while not stop.is_set():
            ticks[0] += 1
            time.sleep(0.005)

    threading.Thread(target=tick, daemon=True).start()
    start_response("200 OK", [("Content-Type", "application/octet-stream")])

    def body():
        started, before = time.monotonic(), ticks[0]
        for _ in range(1024):
            yield b"x" * 8192
        stop.set()
        yield ("\nticks=%d seconds=%.2f" % (ticks[0] - before, time.monotonic() - started)).encode()

    return body()


def file_wrapper(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return environ["wsgi.file_wrapper"](open(__file__, "rb"), 1000)


def slow(environ, start_response):
    time.sleep(float(parse_qs(environ["QUERY_STRING"]).get("s", ["1"])[0]))
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"slept"]


def pid(environ, start_response):
    # ?s=N: after N seconds, so that a request can hold its worker.
    time.sleep(float(parse_qs(environ["QUERY_STRING"]).get("s", ["0"])[0]))
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [("pid=%d" % os.getpid()).encode()]


def not_found(environ, start_response):
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"no such page"]


ROUTES = {
    "/": hello,
    "/environ": environ_dump,
    "/form": form,
    "/upload": upload,
    "/lines": lines,
    "/stream": stream,
    "/big": big,
    "/write": write_callable,
    "/closing": closing,
    "/close-raises": close_raises,
    "/listed": listed,
    "/raise": raises,
    "/exc-info": exc_info_page,
    "/bad-header": bad_header,
    "/bad-header-name": bad_header_name,
    "/header-injection": header_injection,
    "/status-injection": status_injection,
    "/control-in-header": control_in_header,
    "/start-response-misuse": start_response_misuse,
    "/file": file_wrapper,
    "/background": background,
    "/slow": slow,
    "/pid": pid,
    "/nope": not_found,
}


def route(environ, start_response):
    handler = ROUTES.get(environ["PATH_INFO"], hello)
    return handler(environ, start_response)


# The validator checks both sides: the app's use of WSGI and the server's.
application = validator(route)
# bad_header breaks WSGI on purpose; it is served unvalidated so the
# gateway's own check answers.
raw = route


def create_app():
    return application
