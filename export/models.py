"""The model store under $GHOSTWRIGHT_HOME: export into it, list it, verify it."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from ghostwright.errors import BundleError
from ghostwright.export import contract
from ghostwright.export.bundle import export_variant, read_source
from ghostwright.export.contract import Manifest
from ghostwright.export.pull import fetch_default_gguf
from ghostwright.export.source import ModelSource
from ghostwright.home import DEFAULT_MODEL, models_dir

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BundleSummary:
    name: str
    variant: str
    path: Path
    bytes: int
    source: str


def _up_to_date(out: Path, source_sha: str) -> bool:
    manifest = out / contract.MANIFEST_FILE
    if not manifest.is_file():
        return False
    try:
        raw = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return False
    files_ok = all((out / f).is_file() and (out / f).stat().st_size == meta["bytes"]
                   for f, meta in raw.get(Manifest.FILES, {}).items())
    return (raw.get(Manifest.FORMAT_VERSION) == contract.FORMAT_VERSION and files_ok
            and raw.get(Manifest.EXPORTER, {}).get("revision") == contract.EXPORT_REVISION
            and raw.get(Manifest.SOURCE, {}).get("sha256") == source_sha)


def export_model(source_path: Path, name: str, variants: tuple[str, ...], force: bool = False,
                 source: ModelSource | None = None) -> list[Path]:
    """Export ``variants`` of the model at ``source_path`` to ``models_dir()/name``, skipping up-to-date ones."""
    for variant in variants:
        if variant not in contract.VARIANTS:
            raise BundleError(f"unknown variant {variant!r} (choose from {', '.join(contract.VARIANTS)})")
    source = source or read_source(source_path)
    sha = source.provenance["sha256"]
    done = []
    for variant in variants:
        out = models_dir() / name / variant
        if not force and _up_to_date(out, sha):
            log.info("%s/%s is up to date", name, variant)
        else:
            export_variant(source, variant, out, name=name)
        done.append(out)
    return done


def pull_default(variants: tuple[str, ...] = contract.VARIANTS, force: bool = False) -> list[Path]:
    gguf = fetch_default_gguf()
    name = DEFAULT_MODEL
    from ghostwright.export.source import sha256_of

    sha = sha256_of(gguf)
    if not force and all(_up_to_date(models_dir() / name / v, sha) for v in variants):
        return [models_dir() / name / v for v in variants]
    return export_model(gguf, name, variants, force)


def list_bundles() -> list[BundleSummary]:
    found = []
    root = models_dir()
    for manifest in sorted(root.glob(f"*/*/{contract.MANIFEST_FILE}")):
        try:
            raw = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        size = sum(meta.get("bytes", 0) for meta in raw.get(Manifest.FILES, {}).values())
        found.append(BundleSummary(manifest.parent.parent.name, raw.get(Manifest.VARIANT, "?"), manifest.parent,
                                   size, raw.get(Manifest.SOURCE, {}).get("path", "?")))
    return found
