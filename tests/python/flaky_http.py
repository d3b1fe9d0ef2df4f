"""A small WebDAV-style HTTP store for fault tests: PUT stores a file (making
folders as needed), GET/HEAD serve it, MKCOL makes a folder. Faults:

    --fail-first N      answer the first N PUTs with 503
    --fail-first-get N  answer the first N GETs with 503
    --drop-put SUFFIX   for PUTs of paths ending in SUFFIX: read half the
                        body, then close the connection (every time)
    --token T           require "Authorization: Bearer T", else 401
    --refuse-put STATUS answer every PUT with STATUS and a whole HTML page
    --log FILE          append "METHOD PATH STATUS" per request to FILE

Prints "ready PORT" once listening; logs "METHOD PATH STATUS" to stderr.
usage: flaky_http.py ROOT [options]
"""
import argparse
import http.server
import os
import sys

p = argparse.ArgumentParser()
p.add_argument("root")
p.add_argument("--fail-first", type=int, default=0)
p.add_argument("--fail-first-get", type=int, default=0)
p.add_argument("--drop-put", default=None)
p.add_argument("--token", default=None)
p.add_argument("--refuse-put", type=int, default=None)
p.add_argument("--log", default=None)
args = p.parse_args()
state = {"puts": 0, "gets": 0}


def log(line):
    sys.stderr.write(line + "\n")
    sys.stderr.flush()
    if args.log:
        with open(args.log, "a") as f:
            f.write(line + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        pass

    def path_on_disk(self):
        return os.path.join(args.root, self.path.split("?")[0].lstrip("/"))

    def reply(self, status, body=b"", headers=()):
        log(f"{self.command} {self.path} {status}")
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def authorised(self):
        if args.token and self.headers.get("Authorization") != f"Bearer {args.token}":
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            self.reply(401, b"unauthorised")
            return False
        return True

    def do_PUT(self):
        if not self.authorised():
            return
        length = int(self.headers.get("Content-Length") or 0)
        state["puts"] += 1
        if state["puts"] <= args.fail_first:
            self.rfile.read(length)
            return self.reply(503, b"try again")
        if args.drop_put and self.path.endswith(args.drop_put):
            self.rfile.read(length // 2)
            log(f"PUT {self.path} dropped")
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if args.refuse_put:
            self.rfile.read(length)
            page = b"<!DOCTYPE html>\n<html><head><title>Refused</title></head>\n<body><h1>Refused</h1>\n<p>" + b"x" * 2000 + b"</p></body></html>\n"
            return self.reply(args.refuse_put, page, [("Content-Type", "text/html")])
        data = self.rfile.read(length)
        target = self.path_on_disk()
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as f:
            f.write(data)
        self.reply(201)

    def do_MKCOL(self):
        if not self.authorised():
            return
        os.makedirs(self.path_on_disk(), exist_ok=True)
        self.reply(201)

    def do_GET(self):
        if not self.authorised():
            return
        if self.command == "GET":
            state["gets"] += 1
            if state["gets"] <= args.fail_first_get:
                return self.reply(503, b"try again")
        target = self.path_on_disk()
        if not os.path.isfile(target):
            return self.reply(404, b"not found")
        data = open(target, "rb").read()
        self.reply(200, data, [("Content-Type", "application/octet-stream"), ("Last-Modified", "Sat, 21 Nov 2026 00:00:00 GMT")])

    do_HEAD = do_GET


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print("ready", server.server_address[1], flush=True)
server.serve_forever()
