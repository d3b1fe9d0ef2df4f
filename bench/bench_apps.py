"""The apps the gateway benchmarks serve (bench/gateway.py, bench/peers.py):
the plain WSGI hello world, Flask's, and a Django page with a template."""
import os
import subprocess

FLASK_APP = '''from flask import Flask
app = Flask(__name__)

@app.route("/")
def hello():
    return "Hello, World!"
'''

PLAIN_APP = '''def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "13")])
    return [b"Hello, World!"]
'''

DJANGO_VIEW = '''from django.shortcuts import render

def page(request):
    return render(request, "page.html", {"items": range(20), "title": "Django on IIS"})
'''

DJANGO_TEMPLATE = '''<!doctype html><title>{{ title }}</title><h1>{{ title }}</h1>
<ul>{% for i in items %}<li>item {{ i }}</li>{% endfor %}</ul>
'''


def make_apps(root, venv):
    """Writes the three apps under root; {name: (folder, handler)}."""
    py = os.path.join(venv, "bin", "python")
    flask = os.path.join(root, "flask")
    os.makedirs(flask)
    with open(os.path.join(flask, "app.py"), "w") as f:
        f.write(FLASK_APP)
    plain = os.path.join(root, "plain")
    os.makedirs(plain)
    with open(os.path.join(plain, "app.py"), "w") as f:
        f.write(PLAIN_APP)
    django = os.path.join(root, "django")
    os.makedirs(django)
    subprocess.run([py, "-m", "django", "startproject", "site1", "."], cwd=django, check=True)
    settings = os.path.join(django, "site1", "settings.py")
    text = open(settings).read()
    text = text.replace("DEBUG = True", "DEBUG = False").replace("ALLOWED_HOSTS = []", "ALLOWED_HOSTS = ['*']")
    text = text.replace("'DIRS': [],", "'DIRS': [BASE_DIR / 'templates'],")
    open(settings, "w").write(text)
    os.makedirs(os.path.join(django, "templates"))
    open(os.path.join(django, "templates", "page.html"), "w").write(DJANGO_TEMPLATE)
    open(os.path.join(django, "site1", "views.py"), "w").write(DJANGO_VIEW)
    open(os.path.join(django, "site1", "urls.py"), "w").write(
        "from django.urls import path\nfrom site1 import views\nurlpatterns = [path('', views.page)]\n"
    )
    return {"plain": (plain, "app:app"), "flask": (flask, "app:app"), "django": (django, "site1.wsgi.application")}
