"""The model store under $GHOSTWRIGHT_HOME: export into it, list it, verify it."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from ghostwright.errors import BundleError
from ghostwright.export import contract
from ghostwright.export.bundle import export_variant, read_source
from ghostwright.export.catalogue import DEFAULT_PROFILE, PROFILES, SHIPPED, Profile, profile, shipped
from ghostwright.export.contract import Manifest
from ghostwright.export.pull import fetch_gguf
from ghostwright.export.source import ModelSource
from ghostwright.home import models_dir

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BundleSummary:
    name: str
    variant: str
    path: Path
    bytes: int
    source: str
    source_sha256: str
    fim: bool  # the manifest records fill-in-the-middle tokens


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


def pull_model(name: str, variants: tuple[str, ...] | None = None, force: bool = False,
               find_links: Path | None = None) -> list[Path]:
    """Fetch a shipped model (see the catalogue) and export ``variants`` of it (its defaults when None)."""
    model = shipped(name)
    gguf = fetch_gguf(model, find_links)
    wanted = variants or model.variants
    if not force and all(_up_to_date(models_dir() / model.name / v, model.gguf_sha256) for v in wanted):
        return [models_dir() / model.name / v for v in wanted]
    return export_model(gguf, model.name, wanted, force)


def pull_profile(name: str = DEFAULT_PROFILE, force: bool = False, find_links: Path | None = None) -> dict[str, Path]:
    """Every bundle ``name``'s tiers load, fetched and exported when missing: tier -> bundle path."""
    chosen = profile(name)
    variants: dict[str, list[str]] = {}
    for choice in chosen.tiers().values():
        variants.setdefault(choice.model, []).append(choice.variant)
    for model, wanted in variants.items():
        pull_model(model, tuple(dict.fromkeys(wanted)), force, find_links)
    return profile_paths(chosen)


def profile_paths(chosen: Profile) -> dict[str, Path]:
    return {tier: models_dir() / c.model / c.variant for tier, c in chosen.tiers().items()}


def list_bundles() -> list[BundleSummary]:
    found = []
    root = models_dir()
    for manifest in sorted(root.glob(f"*/*/{contract.MANIFEST_FILE}")):
        try:
            raw = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        size = sum(meta.get("bytes", 0) for meta in raw.get(Manifest.FILES, {}).values())
        source = raw.get(Manifest.SOURCE, {})
        fim = bool((raw.get(Manifest.SPECIAL_TOKENS) or {}).get("fim"))
        found.append(BundleSummary(manifest.parent.parent.name, raw.get(Manifest.VARIANT, "?"), manifest.parent,
                                   size, source.get("path", "?"), source.get("sha256", ""), fim))
    return found


def catalogue_json() -> dict[str, object]:
    """What runs, for scripts and editors: the profiles and their tiers, and every exported bundle.

    A tier's ``source_sha256`` and ``fim`` come from its bundle's manifest once exported (``exported``
    true), else from the catalogue."""
    bundles = list_bundles()
    exported = {(b.name, b.variant): b for b in bundles}
    profiles = []
    for chosen in PROFILES.values():
        tiers = {}
        for tier, choice in chosen.tiers().items():
            bundle = exported.get((choice.model, choice.variant))
            model = SHIPPED.get(choice.model)
            tiers[tier] = {"model": choice.model, "variant": choice.variant, "exported": bundle is not None,
                           "source_sha256": bundle.source_sha256 if bundle else (model.gguf_sha256 if model else None),
                           "fim": bundle.fim if bundle else bool(model and model.fim)}
        profiles.append({"name": chosen.name, "description": chosen.description, "tiers": tiers})
    return {"default_profile": DEFAULT_PROFILE, "profiles": profiles,
            "models": [{"name": b.name, "variant": b.variant, "path": str(b.path), "bytes": b.bytes,
                        "source": b.source, "source_sha256": b.source_sha256, "fim": b.fim} for b in bundles]}
