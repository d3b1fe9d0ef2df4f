"""The same Python work on two builds of one CPython: Debian's python3
(libpython linked in) and bench/work/python-shared (the shared
libpython3.X.so the gateway embeds). Prints seconds for a recursive
function and for rendering a Django template 3,000 times.

    bench/gateway.sh runs it with both before the gateway benchmark.
"""
import sys
import time

sys.path.insert(0, sys.argv[1])  # the venv's site-packages (Django)


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def best(fn, runs=3):
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


import django  # noqa: E402
from django.conf import settings  # noqa: E402

settings.configure(TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates"}])
django.setup()
from django.template import engines  # noqa: E402

page = engines["django"].from_string(
    "<h1>{{ title }}</h1><ul>{% for i in items %}<li>item {{ i }}</li>{% endfor %}</ul>"
)
print("%.4f %.4f" % (
    best(lambda: fib(25)),
    best(lambda: [page.render({"items": range(20), "title": "x"}) for _ in range(3000)]),
))
