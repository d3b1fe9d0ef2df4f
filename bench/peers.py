"""The gateway against its peers with no web server in the way (see
bench/peers.sh): uWSGI 2.0 (its python3 plugin serving FastCGI), flup's
fcgi_single, and ours (shared and static libpython), each with the same
number of single-threaded worker processes sharing one listening Unix
socket, the same /usr/bin/python3 and venv, logging off. The load comes
from bench/loadgen (fcgi-load): 1, 8 and 32 connections, a new connection
per request or one kept connection each. The servers take turns, round
after round; the figures are the medians; the ratios come from this run.

    python3 bench/peers.py GATEWAY GATEWAY_STATIC|- LOADGEN VENV

BENCH_LEAK=1000000 adds the leak figure: our worker's RSS after the first
10,000 requests to the Flask app over fresh connections, and at the end.
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from statistics import median

from bench_apps import make_apps

GATEWAY, GATEWAY_STATIC, LOADGEN, VENV = sys.argv[1:5]
PROCESSES = int(os.environ.get("BENCH_PROCESSES", "2"))
SECONDS = os.environ.get("BENCH_SECONDS", "3")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "1"))
CONNECTIONS = [int(c) for c in os.environ.get("BENCH_CONNECTIONS", "1,8,32").split(",")]
MODES = os.environ.get("BENCH_MODES", "new,kept").split(",")
APPS = os.environ.get("BENCH_APPS", "plain,flask,django").split(",")
SERVERS = ["uwsgi", "flup", "ours"] + (["ours.a"] if GATEWAY_STATIC != "-" else [])
PYTHON = os.path.join(VENV, "bin", "python")


def listening_socket(path):
    if os.path.exists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    s.listen(1024)
    return s


def start(server, app_dir, handler, sock_path):
    """Starts `server` serving the app on sock_path; its Popen (the
    process whose children are the workers, or the only one)."""
    env = dict(os.environ, PYTHONHASHSEED="0")
    module, name = handler.split(":") if ":" in handler else handler.rsplit(".", 1)
    if server == "uwsgi":
        cmd = ["uwsgi", "--plugin", "python3", "--fastcgi-socket", sock_path, "--master",
               "--processes", str(PROCESSES), "--threads", "1", "--disable-logging",
               "--virtualenv", VENV, "--chdir", app_dir, "--module", "%s:%s" % (module, name),
               "--need-app", "--die-on-term", "--listen", "1024", "--logto", os.devnull]
        return [subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    listener = listening_socket(sock_path)
    try:
        if server == "flup":
            # fcgi_single takes the socket on fd 0 (FCGI_LISTENSOCK_FILENO),
            # as mod_fcgid gives it: N of them share it.
            code = ("import os, sys; sys.path.insert(0, os.getcwd());"
                    "from flup.server.fcgi_single import WSGIServer;"
                    "from %s import %s as app;"
                    "WSGIServer(app, bindAddress=None).run()" % (module, name))
            return [subprocess.Popen([PYTHON, "-c", code], stdin=listener, cwd=app_dir, env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    for _ in range(PROCESSES)]
        program = GATEWAY if server == "ours" else GATEWAY_STATIC
        env.update({"WSGI_HANDLER": "%s.%s" % (module, name), "IISWSGI_VENV": VENV,
                    "WSGI_RESTART_FILE_REGEX": ""})
        # The socket on fd 0, as mod_fcgid starts it; --processes starts
        # the workers with it on theirs.
        cmd = [program, "--app-dir", app_dir, "--processes", str(PROCESSES), "--threads", "1"]
        return [subprocess.Popen(cmd, stdin=listener, env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    finally:
        listener.close()


def stop(procs):
    for p in procs:
        try:
            p.send_signal(signal.SIGTERM if p.args[0] != "uwsgi" else signal.SIGINT)
        except ProcessLookupError:
            pass
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def ready(sock_path, procs, within=30):
    deadline = time.time() + within
    while time.time() < deadline:
        try:
            out = subprocess.run([LOADGEN, sock_path, "--connections", "1", "--seconds", "0.2",
                                  "--warmup", "0", "--mode", "new"],
                                 capture_output=True, text=True, timeout=20).stdout
            if "errors=0" in out and "requests=0" not in out:
                return True
        except subprocess.TimeoutExpired:
            pass
        if any(p.poll() is not None for p in procs):
            return False
        time.sleep(0.2)
    return False


def measure(sock_path, procs, conns, mode):
    pids = ",".join(str(p.pid) for p in procs)
    out = subprocess.run([LOADGEN, sock_path, "--connections", str(conns), "--seconds", SECONDS,
                          "--warmup", "1", "--mode", mode, "--pids", pids],
                         capture_output=True, text=True, timeout=120).stdout
    fields = dict(kv.split("=", 1) for kv in out.split())
    rss = [int(k) for k in fields.get("rss_kib", "").split(",") if k]
    # Per worker: uWSGI's master and our supervisor serve nothing.
    workers = rss[1:] if len(procs) == 1 and len(rss) > 1 else rss
    return {
        "rps": float(fields["rps"]),
        "errors": int(fields["errors"]),
        "p99": int(fields["p99_us"]),
        "p999": int(fields["p999_us"]),
        "cpu": float(fields["cpu_us_per_req"]),
        "rss": max(workers) if workers else 0,
    }


def leak(apps, sock_path, total):
    """RSS of our worker serving Flask over fresh connections: after the
    first 10,000 requests, and after `total`."""
    app_dir, handler = apps["flask"]
    procs = start("ours", app_dir, handler, sock_path)
    try:
        if not ready(sock_path, procs):
            print("ours did not serve flask", file=sys.stderr)
            return
        def run(n):
            out = subprocess.run([LOADGEN, sock_path, "--connections", "8", "--warmup", "0",
                                  "--mode", "new", "--requests", str(n), "--pids", str(procs[0].pid)],
                                 capture_output=True, text=True, timeout=3600).stdout
            fields = dict(kv.split("=", 1) for kv in out.split())
            return int(fields["requests"]), int(fields["errors"]), [int(k) for k in fields["rss_kib"].split(",")][1:]
        n1, e1, rss1 = run(10000)
        n2, e2, rss2 = run(total - 10000)
        growth = [b - a for a, b in zip(rss1, rss2)]
        print("leak: Flask over fresh connections, %d worker(s): RSS after %d requests %s KiB, after %d more %s KiB:"
              " growth %s KiB (%d errors)" % (PROCESSES, n1, rss1, n2, rss2, growth, e1 + e2))
    finally:
        stop(procs)


def main():
    root = tempfile.mkdtemp(prefix="iiswsgi-peers-")
    try:
        apps = make_apps(os.path.join(root, "src"), VENV)
        sock_path = os.path.join(root, "fcgi.sock")
        results = {}  # (app, mode, conns, server) -> [figures]
        for rnd in range(ROUNDS):
            for app in APPS:
                app_dir, handler = apps[app]
                for server in SERVERS:
                    procs = start(server, app_dir, handler, sock_path)
                    try:
                        if not ready(sock_path, procs):
                            print("%s did not serve %s" % (server, app), file=sys.stderr)
                            continue
                        for mode in MODES:
                            for conns in CONNECTIONS:
                                r = measure(sock_path, procs, conns, mode)
                                results.setdefault((app, mode, conns, server), []).append(r)
                    finally:
                        stop(procs)
            print("round %d of %d done" % (rnd + 1, ROUNDS), file=sys.stderr)
        report(results)
        if os.environ.get("BENCH_LEAK"):
            leak(apps, sock_path, int(os.environ["BENCH_LEAK"]))
    finally:
        shutil.rmtree(root, ignore_errors=True)


def med(results, key, field):
    rs = results.get(key)
    return median(r[field] for r in rs) if rs else None


def report(results):
    print("%d worker processes each (threads 1), %s s per point, %d round(s), medians" % (PROCESSES, SECONDS, ROUNDS))
    head = "%-7s %-5s %5s" % ("app", "mode", "conns")
    for s in SERVERS:
        head += " %9s %7s" % (s + " r/s", "p99us")
    head += " %9s %9s %8s" % ("ours/uwsgi", "ours/flup", "p99 o/u")
    print(head)
    for app in APPS:
        for mode in MODES:
            for conns in CONNECTIONS:
                line = "%-7s %-5s %5d" % (app, mode, conns)
                for s in SERVERS:
                    rps = med(results, (app, mode, conns, s), "rps")
                    p99 = med(results, (app, mode, conns, s), "p99")
                    errors = sum(r["errors"] for r in results.get((app, mode, conns, s), []))
                    line += " %9s %7s" % ("-" if rps is None else "%.0f%s" % (rps, "!" if errors else ""),
                                          "-" if p99 is None else "%d" % p99)
                ours = med(results, (app, mode, conns, "ours"), "rps")
                uw = med(results, (app, mode, conns, "uwsgi"), "rps")
                fl = med(results, (app, mode, conns, "flup"), "rps")
                op99 = med(results, (app, mode, conns, "ours"), "p99")
                up99 = med(results, (app, mode, conns, "uwsgi"), "p99")
                ratio = lambda a, b: "-" if not a or not b else "%.2fx" % (a / b)
                line += " %9s %9s %8s" % (ratio(ours, uw), ratio(ours, fl), ratio(op99, up99))
                print(line)
    print("CPU per request (us, user+system of every server process) and RSS per worker (KiB, max):")
    for app in APPS:
        line = "%-7s" % app
        for s in SERVERS:
            cpu = med(results, (app, "new", CONNECTIONS[0], s), "cpu")
            rss = med(results, (app, "new", CONNECTIONS[-1], s), "rss")
            line += "  %s cpu %s rss %s" % (s, "-" if cpu is None else "%.1f" % cpu,
                                           "-" if rss is None else "%d" % rss)
        print(line)
    print("(! after a figure: some requests failed; kept mode against a server that closes"
          " every connection counts each close as an error and reconnects)")


if __name__ == "__main__":
    main()
