"""The views. The page is plain HTML so the app needs no template engine."""
import html

from pyramid.response import Response
from pyramid.view import view_config

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{title}</title>
  <link rel="stylesheet" href="{css}">
</head>
<body>
  <h1>{title}</h1>
  <p>A Pyramid application served by IIS through FastCGI, deployed with Web Deploy.</p>
</body>
</html>
"""


@view_config(route_name="home")
def home(request):
    title = html.escape(request.registry.settings.get("site_title", "Pyramid"))
    css = request.static_url("pyramidiisapp:static/style.css")
    return Response(PAGE.format(title=title, css=css), content_type="text/html")


@view_config(route_name="health", renderer="json")
def health(request):
    return {"status": "ok"}


@view_config(route_name="greet", renderer="json")
def greet(request):
    return {"greeting": "Hello, %s!" % request.POST.get("name", "world")}
