"""Install-time setup of the Pyramid IIS app (iiswsgi 0.3's pyramid.msdeploy)."""
from setuptools import setup

setup(
    name="PyramidIISApp",
    version="0.2",
    description="Pyramid application project.",
    author="Ross Patterson",
    author_email="me@rpatterson.net",
    url="http://www.pylonsproject.org/projects/pyramid/about",
    license="GPL version 3",
    install_requires=["iiswsgi", "pyramid"],
    extras_require=dict(install_msdeploy=["virtualenv"]),
)
