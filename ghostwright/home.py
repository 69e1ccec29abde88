"""Where Ghostwright keeps its files: one root, overridable for tests and CI caches."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_MODEL = "smollm2-135m-instruct"


def ghostwright_home() -> Path:
    """``$GHOSTWRIGHT_HOME``, else ``~/.cache/ghostwright``."""
    env = os.environ.get("GHOSTWRIGHT_HOME")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "ghostwright"


def models_dir() -> Path:
    return ghostwright_home() / "models"


def bundle_dir(model: str = DEFAULT_MODEL, variant: str = "fp32") -> Path:
    return models_dir() / model / variant
