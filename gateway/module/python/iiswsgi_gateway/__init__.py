"""iiswsgi's FastCGI-to-WSGI gateway, run by the app's own Python.

``python -m iiswsgi_gateway [ARGS]`` (or the ``iiswsgi-gateway`` console
script) takes the same arguments as the Windows ``iiswsgi-gateway.exe``:
see ``--help``.
"""

import sys

from ._gateway import __version__, run

__all__ = ["__version__", "main", "run"]


def main():
    """The console script: the gateway with this process's arguments."""
    sys.exit(run(sys.argv[1:], sys.argv[0]))
