"""A small Pyramid application for IIS: a page, a JSON health check, a form
and static files, configured by production.ini."""
from pyramid.config import Configurator


def main(global_config, **settings):
    """The WSGI app: PasteDeploy calls this with production.ini's settings."""
    with Configurator(settings=settings) as config:
        config.add_static_view("static", "pyramidiisapp:static", cache_max_age=3600)
        config.add_route("home", "/")
        config.add_route("health", "/health")
        config.add_route("greet", "/greet", request_method="POST")
        config.scan(".views")
    return config.make_wsgi_app()
