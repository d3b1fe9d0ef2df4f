"""Gateway benchmark: iiswsgi-gateway against flup's FastCGI WSGI server
(flup.server.fcgi_single, pure Python, one request at a time per process,
the same model as wfastcgi and as ours), both spawned by the same Apache
httpd + mod_fcgid on 127.0.0.1 with the same number of processes, serving
the same plain WSGI hello-world (the gateways' own cost), Flask hello-world
and Django page. flup runs twice: on Debian's python3 and on the shared
libpython the gateway embeds (bench/python_shared.c), which runs Python
code slower; the gateway runs twice too, the second time ("ours.a") with
the static libpython linked in, as python3 has it. A C responder that
does the least a responder can (bench/floor_responder.c) gives the host's
floor, and the app's own CPU time, taken inside flup's processes, the
ceiling any gateway could reach. wrk drives 1 and 8 concurrent
connections; the script prints requests/s, p99 latency and memory per
process for each, and ratios.

    bench/gateway.sh            (builds the gateway, makes the venv, runs this)

Run as root: Apache serves as www-data, so everything is staged under a
world-readable temp folder.
"""
import json
import os
from statistics import median
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from bench_apps import make_apps

GATEWAY = sys.argv[1]
VENV = sys.argv[2]
# The host's floor: a C responder answering the plain app's bytes.
FLOOR = sys.argv[3] if len(sys.argv) > 3 else None
# python3 on the shared libpython the gateway embeds (bench/python_shared.c):
# flup run on it too tells the gateways' cost from the interpreter builds'.
PYTHON_SHARED = sys.argv[4] if len(sys.argv) > 4 else None
# The gateway with Debian's static libpython linked in, as python3 has it
# (IISWSGI_GATEWAY_STATIC_LIBPYTHON, gateway/build.rs): "ours.a".
GATEWAY_STATIC = sys.argv[5] if len(sys.argv) > 5 else None
GATEWAYS = (("ours", GATEWAY),) + ((("oursa", GATEWAY_STATIC),) if GATEWAY_STATIC else ())
FLUPS = ("flup",) + (("flupso",) if PYTHON_SHARED else ())
WHO = tuple(who for who, _ in GATEWAYS) + FLUPS
NAMES = {"ours": "ours", "oursa": "ours.a", "flup": "flup", "flupso": "flup.so"}
# The ratios printed, where both sides ran.
RATIOS = [(a, b) for a, b in (("ours", "flup"), ("oursa", "flup"), ("ours", "flupso")) if a in WHO and b in WHO]
# flup again with the app timed (flup_runner), measured like the others
# but only for the app's CPU time: the timing itself (two thread_time
# system calls and the body joined) stays out of flup's own figures.
TIMED = "fluptimed"
DURATION = os.environ.get("BENCH_SECONDS", "5")
# Each point is measured this many times, servers taking turns; the
# figures are the medians.
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
# More processes than the most connections (8): when no process is idle,
# mod_fcgid makes the request sleep a whole second before it looks again
# (fcgid_bridge.c), and a process goes back to the idle list only after
# Apache has finished the request, so with exactly 8 the 8th connection
# often finds none and p99 became the host's 1 s sleep, for any gateway.
PROCESSES = int(os.environ.get("BENCH_PROCESSES", "12"))
MODULES = "/usr/lib/apache2/modules"

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def web_config(settings):
    adds = "".join('<add key="%s" value="%s"/>' % kv for kv in settings.items())
    return '<?xml version="1.0"?><configuration><appSettings>%s</appSettings></configuration>' % adds


def flup_runner(app_dir, handler, python, stats):
    """flup's script for one app. With `stats` (the TIMED server), the app
    is timed: the CPU time of each call (body joined, close() called) is
    added up and written to `stats` every 100 calls, so the app's own cost
    is known as it runs in the server (caches shared with Apache, wrk and
    the other processes), not as in a hot loop."""
    module, _, name = handler.partition(":") if ":" in handler else handler.rpartition(".")
    site_packages = os.path.join(VENV, "lib", "python%d.%d" % sys.version_info[:2], "site-packages")
    return """#!%s
import os, site, sys, time
site.addsitedir(%r)
sys.path.insert(0, %r)
os.chdir(%r)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site1.settings")
from flup.server.fcgi_single import WSGIServer
from %s import %s as application
STATS = %r
if STATS:
    app, calls, spent = application, 0, 0.0
    stats_file = os.path.join(STATS, str(os.getpid()))

    def application(environ, start_response):
        global calls, spent
        started = time.thread_time()
        result = app(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        spent += time.thread_time() - started
        calls += 1
        if calls %% 100 == 0:
            with open(stats_file, "w") as f:
                f.write("%%d %%.9f" %% (calls, spent))
        return [body]
WSGIServer(application).run()
""" % (python, site_packages, app_dir, app_dir, module, name, stats)


def app_cpu_per_call(stats):
    """Mean CPU seconds per app call over every process's stats file."""
    calls = spent = 0
    for name in os.listdir(stats):
        n, t = open(os.path.join(stats, name)).read().split()
        calls, spent = calls + int(n), spent + float(t)
    return spent / calls if calls else float("nan")


def stage(root, apps):
    """Each app once per server: our gateway(s) (bin/iiswsgi-gateway beside
    web.config, as on IIS) and the flups (a script mod_fcgid starts)."""
    locations = []
    for name, (src, handler) in apps.items():
        served = []
        for who, exe in GATEWAYS:
            ours = os.path.join(root, "apps", "%s-%s" % (name, who))
            shutil.copytree(src, ours)
            os.makedirs(os.path.join(ours, "bin"))
            shutil.copy(exe, os.path.join(ours, "bin", "iiswsgi-gateway"))
            settings = {"WSGI_HANDLER": handler.replace(":", "."), "IISWSGI_VENV": VENV, "WSGI_RESTART_FILE_REGEX": ""}
            if name == "django":
                settings["DJANGO_SETTINGS_MODULE"] = "site1.settings"
            open(os.path.join(ours, "web.config"), "w").write(web_config(settings))
            served.append(("/%s-%s" % (name, who), os.path.join(ours, "bin", "iiswsgi-gateway")))
        for who in FLUPS + (TIMED,):
            flup = os.path.join(root, "apps", "%s-%s" % (name, who))
            shutil.copytree(src, flup)
            python = os.path.join(VENV, "bin", "python")
            if who == "flupso":
                python = os.path.join(flup, "python-shared")
                shutil.copy(PYTHON_SHARED, python)
            runner = os.path.join(flup, "run.fcgi")
            stats = os.path.join(root, "stats", name) if who == TIMED else ""
            if stats:
                os.makedirs(stats)
            open(runner, "w").write(flup_runner(flup, handler, python, stats))
            os.chmod(runner, 0o755)
            served.append(("/%s-%s" % (name, who), runner))
        for url, exe in served:
            locations.append(
                'Alias "%s" "%s"\n<Location "%s">\n SetHandler fcgid-script\n Options +ExecCGI\n Require all granted\n</Location>\n'
                % (url, exe, url)
            )
    if FLOOR:
        floor = os.path.join(root, "apps", "plain-floor")
        os.makedirs(floor)
        exe = os.path.join(floor, "floor-responder")
        shutil.copy(FLOOR, exe)
        locations.append(
            'Alias "/plain-floor" "%s"\n<Location "/plain-floor">\n SetHandler fcgid-script\n Options +ExecCGI\n Require all granted\n</Location>\n'
            % exe
        )
    return "".join(locations)


def start_apache(root, locations):
    port = free_port()
    for d in ("run", "fcgid", "logs", "htdocs"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    conf = """ServerRoot "{r}"
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
PidFile "{r}/run/httpd.pid"
DefaultRuntimeDir "{r}/run"
Mutex file:{r}/run default
User www-data
Group www-data
ErrorLog "{r}/logs/error.log"
LogLevel error
DocumentRoot "{r}/htdocs"
LoadModule mpm_event_module {m}/mod_mpm_event.so
LoadModule authz_core_module {m}/mod_authz_core.so
LoadModule alias_module {m}/mod_alias.so
LoadModule fcgid_module {m}/mod_fcgid.so
ServerLimit 4
ThreadsPerChild 32
FcgidIPCDir "{r}/fcgid"
FcgidProcessTableFile "{r}/fcgid/shm"
FcgidMaxProcessesPerClass {n}
FcgidMinProcessesPerClass {n}
FcgidMaxProcesses {total}
FcgidMaxRequestsPerProcess 0
FcgidIdleTimeout 0
FcgidIdleScanInterval 600
FcgidSpawnScoreUpLimit 1000
FcgidSpawnScore 1
FcgidTerminationScore 0
FcgidOutputBufferSize 0
{locations}""".format(r=root, port=port, m=MODULES, n=PROCESSES, locations=locations,
                       # Room for every class's processes (each stays up).
                       total=PROCESSES * (locations.count("<Location") + 1))
    open(os.path.join(root, "httpd.conf"), "w").write(conf)
    for dirpath, dirnames, filenames in os.walk(root):
        os.chmod(dirpath, 0o755)
    subprocess.run(["chmod", "-R", "a+rX", root], check=True)
    os.chmod(os.path.join(root, "logs"), 0o777)
    os.chmod(os.path.join(root, "fcgid"), 0o777)
    for dirpath, dirnames, filenames in os.walk(os.path.join(root, "stats")):
        os.chmod(dirpath, 0o777)  # the timed flup writes its figures there
    proc = subprocess.Popen(["/usr/sbin/apache2", "-DFOREGROUND", "-f", os.path.join(root, "httpd.conf")])
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port)).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    raise SystemExit("Apache did not start: " + open(os.path.join(root, "logs", "error.log")).read())


def wrk(url, connections):
    threads = min(connections, 2)
    out = subprocess.run(
        ["wrk", "-t%d" % threads, "-c%d" % connections, "-d%ss" % DURATION, "--latency", url],
        capture_output=True, text=True, check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, float(p99.group(1)) * scale, int(errors.group(1)) if errors else 0


def rss_per_process(marker):
    """Mean resident memory (MiB) of the processes whose command line holds marker."""
    sizes = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = open("/proc/%s/cmdline" % pid, "rb").read().replace(b"\0", b" ").decode()
            if marker in cmd and "apache2" not in cmd:
                status = open("/proc/%s/status" % pid).read()
                sizes.append(int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024)
        except OSError:
            pass
    return (sum(sizes) / len(sizes) if sizes else 0.0), len(sizes)


def main():
    root = tempfile.mkdtemp(prefix="iiswsgi-gwbench-")
    try:
        apps = make_apps(os.path.join(root, "src"), VENV)
        locations = stage(root, apps)
        proc, port = start_apache(root, locations)
        try:
            results = {}
            for app in ("plain", "flask", "django"):
                whos = WHO + (TIMED,) + (("floor",) if app == "plain" and FLOOR else ())
                url = {who: "http://127.0.0.1:%d/%s-%s/" % (port, app, who) for who in whos}
                for who in whos:
                    check = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", url[who]],
                                           capture_output=True, text=True)
                    if check.stdout != "200":
                        raise SystemExit("%s answered %s: %s" % (url[who], check.stdout, open(os.path.join(root, "logs", "error.log")).read()[-2000:]))
                    # Warm up with more connections than processes, so that
                    # mod_fcgid spawns them all before the measured runs.
                    wrk(url[who], 2 * PROCESSES)
                # Rounds, each point of each server in turn: the VM's speed
                # drifts by a third within minutes, and measuring one server
                # after the other would hand the drift to the ratio.
                samples = {}
                for _ in range(ROUNDS):
                    for c in (1, 8):
                        for who in whos:
                            samples.setdefault((who, c), []).append(wrk(url[who], c))
                for (who, c), runs in samples.items():
                    results[(app, who, c)] = (median([r[0] for r in runs]), median([r[1] for r in runs]),
                                              sum(r[2] for r in runs))
                for who in whos:
                    marker = {"ours": "%s-ours/bin/iiswsgi-gateway", "oursa": "%s-oursa/bin/iiswsgi-gateway", "flup": "%s-flup/run.fcgi",
                              "flupso": "%s-flupso/run.fcgi", TIMED: "%s-" + TIMED + "/run.fcgi", "floor": "%s-floor/floor-responder"}[who] % app
                    results[(app, who, "rss")] = rss_per_process(marker)
            print("Gateway benchmark: Apache %s + mod_fcgid, %d processes per app, wrk %ss per point, median of %d rounds"
                  % (subprocess.run(["/usr/sbin/apache2", "-v"], capture_output=True, text=True).stdout.split()[2], PROCESSES, DURATION, ROUNDS))
            print("flup: Debian's python3 (libpython linked in); flup.so: the same flup on the shared libpython the gateway embeds;"
                  " ours.a: the gateway with the static libpython linked in, as python3")
            print("%-7s %5s " % ("app", "conns") + "".join("%12s" % (NAMES[w] + " r/s") for w in WHO) + "".join(
                "%13s" % ("%s/%s" % (NAMES[a], NAMES[b])) for a, b in RATIOS) + "  p99 ms " + "/".join(NAMES[w] for w in WHO))
            for app in ("plain", "flask", "django"):
                for c in (1, 8):
                    row = {w: results[(app, w, c)] for w in WHO}
                    errors = {w: r[2] for w, r in row.items() if r[2]}
                    print("%-7s %5d " % (app, c) + "".join("%12.0f" % row[w][0] for w in WHO) + "".join(
                        "%12.2fx" % (row[a][0] / row[b][0]) for a, b in RATIOS) + "  " + "/".join(
                        "%.2f" % row[w][1] for w in WHO) + ("  (non-2xx: %s)" % errors if errors else ""))
                if FLOOR:
                    # What a gateway that cost nothing would reach: the
                    # host's floor plus the app's own time, as the app
                    # took it inside flup's processes. At 8 connections
                    # both cores are busy, so the app's CPU time adds half
                    # of itself to the time per request.
                    floor1, floor8 = (1 / results[("plain", "floor", c)][0] for c in (1, 8))
                    cost = app_cpu_per_call(os.path.join(root, "stats", app))
                    print("        ceiling: the app takes %.0f us of CPU a call in flup's processes (timed flup %.0f/%.0f r/s); "
                          "with this host's floor and a gateway that cost nothing: %.2fx flup at 1 conn, %.2fx at 8"
                          % (cost * 1e6, results[(app, TIMED, 1)][0], results[(app, TIMED, 8)][0],
                             (1 / results[(app, "flup", 1)][0]) / (floor1 + cost),
                             (1 / results[(app, "flup", 8)][0]) / (floor8 + cost / 2)))
                mem = ", ".join("%s %.1f MiB (%d)" % ((who,) + results[(app, who, "rss")]) for who in WHO)
                print("%-7s memory per process (processes): %s" % (app, mem))
                if app == "plain" and FLOOR:
                    for c in (1, 8):
                        fl = results[("plain", "floor", c)]
                        # Time per request (1/throughput) beyond the floor's:
                        # what the gateway itself adds.
                        own = {w: 1e6 / results[("plain", w, c)][0] - 1e6 / fl[0] for w in WHO}
                        print("%-7s %5d %9.0f  (the least a C responder can do, no Python; p99 %.2f ms)" % ("floor", c, fl[0], fl[1]))
                        print("        own cost per request at %d conn(s): %s; a gateway that cost nothing would reach %.2fx flup"
                              % (c, ", ".join("%s %.0f us" % (NAMES[w], own[w]) for w in WHO), fl[0] / results[("plain", "flup", c)][0]))
            print(json.dumps({"%s/%s/%s" % k: v for k, v in results.items()}))
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=20)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
