"""Package discovery for the layout the design card fixes: top-level folders, one namespace.

``export/``, ``inference/`` and ``server/`` sit at the top of the repository but import as
``ghostwright.export`` and so on. setuptools' ``find`` cannot map folders onto other names, and
a hand-kept list silently drops any subpackage someone forgets to add, so every folder with an
``__init__.py`` below these roots becomes a package here.
"""

from pathlib import Path

from setuptools import setup

ROOTS = {
    "ghostwright": "ghostwright",
    "ghostwright.export": "export",
    "ghostwright.inference": "inference",
    "ghostwright.server": "server",
}


def discovered_packages() -> list[str]:
    here = Path(__file__).parent
    found = set()
    for name, folder in ROOTS.items():
        for init in (here / folder).rglob("__init__.py"):
            parts = init.parent.relative_to(here / folder).parts
            if "__pycache__" not in parts:
                found.add(".".join((name, *parts)))
    return sorted(found)


setup(package_dir=ROOTS, packages=discovered_packages())
