"""Sends N identical GET requests over one kept FastCGI connection to a
Unix socket and prints the mean time per request (client included).
Used by bench/gateway_instructions.sh; no dependencies.

    python3 bench/fcgi_get.py SOCKET N
"""
import socket
import struct
import sys
import time

BEGIN, END, PARAMS, STDIN = 1, 3, 4, 5
KEEP_CONN = 1


def record(kind, request_id, content):
    padding = (-len(content)) % 8
    return struct.pack(">BBHHBB", 1, kind, request_id, len(content), padding, 0) + content + b"\0" * padding


def pair(name, value):
    def length(b):
        return bytes([len(b)]) if len(b) < 128 else struct.pack(">I", len(b) | 0x80000000)
    return length(name) + length(value) + name + value


# What Apache's mod_fcgid sends for `GET /` (the usual CGI set).
PARAMS_OF_GET = {
    "GATEWAY_INTERFACE": "CGI/1.1", "SERVER_SOFTWARE": "Apache", "SERVER_NAME": "127.0.0.1",
    "SERVER_ADDR": "127.0.0.1", "SERVER_PORT": "80", "REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": "50000",
    "DOCUMENT_ROOT": "/srv", "REQUEST_SCHEME": "http", "SERVER_PROTOCOL": "HTTP/1.1",
    "REQUEST_METHOD": "GET", "QUERY_STRING": "", "REQUEST_URI": "/", "SCRIPT_NAME": "", "PATH_INFO": "/",
    "HTTP_HOST": "127.0.0.1", "HTTP_USER_AGENT": "bench", "HTTP_ACCEPT": "*/*",
}


def main():
    path, count = sys.argv[1], int(sys.argv[2])
    params = b"".join(pair(k.encode(), v.encode()) for k, v in PARAMS_OF_GET.items())
    request = (record(BEGIN, 1, struct.pack(">HB5x", 1, KEEP_CONN)) + record(PARAMS, 1, params)
               + record(PARAMS, 1, b"") + record(STDIN, 1, b""))
    conn = socket.socket(socket.AF_UNIX)
    conn.connect(path)
    started = time.perf_counter()
    for _ in range(count):
        conn.sendall(request)
        got = b""
        # The reply ends with FCGI_END_REQUEST: 8 bytes of header, 8 of body.
        while len(got) < 16 or got[-15] != END:
            piece = conn.recv(65536)
            if not piece:
                raise SystemExit("the gateway closed the connection")
            got += piece
    print("%.1f us per request" % ((time.perf_counter() - started) / count * 1e6))


if __name__ == "__main__":
    main()
