"""iiswsgi's FastCGI-to-WSGI gateway, run by the app's own Python.

``python -m iiswsgi_gateway [ARGS]`` (or the ``iiswsgi-gateway`` console
script) takes the same arguments as the Windows ``iiswsgi-gateway.exe``:
see ``--help``.
"""

import os
import sys

from ._gateway import __version__, run

__all__ = ["__version__", "main", "run"]


def main():
    """The console script: the gateway with this process's arguments.

    The script's path (a venv's ``bin/iiswsgi-gateway``, or a copy in an
    app's ``bin/`` that mod_fcgid runs) locates the app as the executable's
    path does; ``-c`` names no file and so no app."""
    script = sys.argv[0] if os.path.isfile(sys.argv[0]) else None
    sys.exit(run(sys.argv[1:], script))
