"""The Python half of iiswsgi-gateway (the FastCGI half is Rust).

The gateway imports this once, calls ``load(handler_name)`` to get the WSGI
application and ``run(app, environ, out)`` for each request. ``out`` is the
gateway's response writer and the app's start_response: calling it keeps
the status line and headers until the first body bytes, ``write(bytes)``
sends, ``write_last(bytes)`` queues the last bytes to leave with the end
of the request, ``finish()`` sends a head still pending,
``headers_sent`` says whether any went out.
"""

import importlib
import os
import sys
import traceback

_baseline = None  # sys.modules before the app was first imported
# Iterators over a body that is all there (Django's HttpResponse iterates
# its list of chunks): their next() cannot block, so the last chunk can
# wait for the end of the request and leave with it in one write. It also
# waits for the result's close() (Django's request_finished handlers),
# which runs before the end of the request is sent; sending the end
# before close() would take that wait away too.
_ALL_THERE = (type(iter([])), type(iter(())))

# True when the gateway is the extension module run by the app's own
# interpreter (python -m iiswsgi_gateway), set by the gateway after loading.
HOSTED = False


def forget_script_path():
    """Hosted: the entry Python put first on sys.path for what it was
    started to run (the console script's bin/ folder, the working folder
    of -m, '' of -c) is not the app's, and the venv's own python would not
    show it to the app either."""
    if not getattr(sys.flags, "safe_path", False) and sys.path:
        del sys.path[0]


def check_venv(venv):
    """The interpreter must already be the venv's (the gateway told CPython
    so before it started, as the venv's own python.exe is): site.py then
    put its site-packages, .pth files included, on sys.path, and the base
    Python's only if pyvenv.cfg's include-system-site-packages says so."""
    def norm(path):
        return os.path.normcase(os.path.abspath(path)).rstrip("\\/")

    if norm(sys.prefix) != norm(venv):
        if HOSTED:
            raise RuntimeError(
                "the gateway runs in the Python of %s, not in the app's virtual "
                "environment %s: start it with that environment's python "
                "(%s -m iiswsgi_gateway)" % (sys.prefix, venv, os.path.join(venv, "bin", "python"))
            )
        raise RuntimeError(
            "the virtual environment %s was not taken up by Python (sys.prefix is %s): "
            "is PYTHONHOME set in the environment of the process? It overrides every "
            "virtual environment; remove it" % (venv, sys.prefix)
        )


def prepare(app_dir, python_path, app_settings, venv):
    """Working folder, sys.path and os.environ for the app (what wfastcgi
    does before importing the handler): the app folder first, then the
    PYTHONPATH setting's folders, then what the venv's python has."""
    os.chdir(app_dir)
    # The venv launcher's variable, read by CPython at start, is not
    # passed on to the app's child processes.
    os.environ.pop("__PYVENV_LAUNCHER__", None)
    os.environ.update(app_settings)
    if venv:
        check_venv(venv)
    first = [app_dir] + [p for p in python_path if p != app_dir]
    sys.path[:] = first + [p for p in sys.path if p not in first]


def _resolve(obj, attrs):
    for attr in attrs:
        call = attr.endswith("()")
        obj = getattr(obj, attr[:-2] if call else attr)
        if call:
            obj = obj()
    return obj


def load(name):
    """The WSGI application named by WSGI_HANDLER: ``module:callable``,
    ``module.callable``, or either with a factory call, such as
    ``django.core.wsgi.get_wsgi_application()``."""
    global _baseline
    if _baseline is None:
        _baseline = set(sys.modules)
    importlib.invalidate_caches()
    name = name.strip()
    if ":" in name:
        module_name, _, attrs = name.partition(":")
        return _resolve(importlib.import_module(module_name), attrs.split("."))
    parts = name.split(".")
    # As wfastcgi: the longest importable module prefix, the rest attributes.
    for cut in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:cut])
        if "(" in module_name:
            continue
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as e:
            # Only this name's own absence means "try a shorter prefix"; a
            # module that the app imports and is missing is the app's error.
            if e.name and (module_name == e.name or module_name.startswith(e.name + ".")):
                continue
            raise
        return _resolve(module, parts[cut:])
    raise ModuleNotFoundError("WSGI_HANDLER %r: no module of that name could be imported" % name)


def unload():
    """Forgets every module imported since the app was first loaded, so
    that the next load() imports the changed code."""
    if _baseline is None:
        return
    for mod in [m for m in sys.modules if m not in _baseline]:
        del sys.modules[mod]
    importlib.invalidate_caches()


def format_error(exc):
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


class FileWrapper:
    """wsgi.file_wrapper (PEP 3333, optional): iterates a file in blocks."""

    def __init__(self, filelike, blksize=65536):
        self.filelike = filelike
        self.blksize = blksize
        if hasattr(filelike, "close"):
            self.close = filelike.close

    def __iter__(self):
        read, size = self.filelike.read, self.blksize
        while True:
            block = read(size)
            if not block:
                return
            yield block


def run(app, environ, out):
    """One request through the app, by PEP 3333. ``out`` is also the
    app's start_response (the gateway's, in Rust: it checks the status
    and headers and keeps the head until the first body bytes)."""
    result = app(environ, out)
    try:
        if type(result) is list and len(result) == 1:
            # The common case, a body that is all there: it leaves with the
            # end of the request, in one write.
            out.write_last(result[0])
        else:
            write = out.write
            chunks = iter(result)
            if type(chunks) in _ALL_THERE:
                body = list(chunks)
                last = body.pop() if body else b""
                for chunk in body:
                    if chunk:
                        write(chunk)
                out.write_last(last)
            else:
                for chunk in chunks:
                    if chunk:
                        write(chunk)
                out.finish()
    finally:
        # A list has no close(); asking it would raise and swallow an
        # AttributeError on every request.
        close = None if type(result) is list else getattr(result, "close", None)
        if close is not None:
            close()
