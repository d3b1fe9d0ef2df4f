"""The WSGI app for IIS, as `iiswsgi init` writes it for a Pyramid project:
the Pyramid app that production.ini configures (the gateway imports
`application` from here; web.config's WSGI_HANDLER names it)."""
import os

from pyramid.paster import get_app, setup_logging

_ini = os.path.join(os.path.dirname(os.path.abspath(__file__)), "production.ini")
setup_logging(_ini)
application = get_app(_ini, "main")
