"""The wheel holds every module of the source tree, and each one imports from it.

A package list kept by hand drops a new subpackage from the wheel without a word; an editable
install hides that, because it reads the source folders. So this builds the real wheel (no
network: setuptools and wheel come with the dev extras), compares its modules with the source
folders, and imports every module from the unpacked wheel in a fresh interpreter.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ROOTS = {"ghostwright": "ghostwright", "ghostwright.export": "export", "ghostwright.inference": "inference",
         "ghostwright.server": "server"}


def source_modules() -> set[str]:
    found = set()
    for package, folder in ROOTS.items():
        for path in (REPO / folder).rglob("*.py"):
            if "__pycache__" in path.parts:
                continue
            parts = path.relative_to(REPO / folder).with_suffix("").parts
            found.add(".".join((package, *parts)).removesuffix(".__init__"))
    return found


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from a clean copy of the sources: setuptools reuses a stale ``build/lib``,
    which would hide a package the discovery no longer finds."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy2(REPO / name, source / name)
    for folder in ROOTS.values():
        shutil.copytree(REPO / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("wheel")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
                            "--disable-pip-version-check", "-w", str(out), str(source)],
                           capture_output=True, text=True, timeout=300, cwd=source)
    assert build.returncode == 0, build.stderr[-2000:]
    (path,) = out.glob("ghostwright-*.whl")
    return path


def test_the_wheel_holds_every_source_module(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = {n.removesuffix(".py").replace("/", ".").removesuffix(".__init__")
                 for n in archive.namelist() if n.endswith(".py")}
    missing = source_modules() - names
    assert not missing, f"left out of the wheel: {sorted(missing)}"


def test_every_module_imports_from_the_unpacked_wheel(wheel: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(tmp_path)
    modules = sorted(source_modules())
    program = (
        "import importlib, sys\n"
        "import ghostwright\n"
        f"assert ghostwright.__file__.startswith({str(tmp_path)!r}), ghostwright.__file__\n"
        "failed = []\n"
        f"for name in {modules!r}:\n"
        "    try:\n"
        "        module = importlib.import_module(name)\n"
        f"        assert module.__file__.startswith({str(tmp_path)!r}), module.__file__\n"
        "    except Exception as exc:\n"
        "        failed.append(f'{name}: {type(exc).__name__}: {exc}')\n"
        "print('\\n'.join(failed))\n"
        "sys.exit(1 if failed else 0)\n"
    )
    # The unpacked wheel comes first on the path; the editable install's finder comes after it.
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=300,
                            cwd=tmp_path, env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
