"""Read a bundle's manifest and refuse anything inference cannot trust.

Inference reads only the manifest and the files it names; every check here says which
file and what is wrong, so "the model is broken" is never the whole message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ghostwright.errors import BundleError
from ghostwright.export import contract
from ghostwright.export.config import ModelConfig
from ghostwright.export.contract import Manifest
from ghostwright.export.source import sha256_of


@dataclass(frozen=True)
class BundleManifest:
    path: Path  # the bundle directory
    raw: dict[str, Any]
    config: ModelConfig

    @property
    def name(self) -> str:
        return str(self.raw[Manifest.NAME])

    @property
    def variant(self) -> str:
        return str(self.raw[Manifest.VARIANT])

    @property
    def dtype(self) -> str:
        return str(self.raw[Manifest.DTYPE])

    @property
    def special_tokens(self) -> dict[str, Any]:
        return dict(self.raw[Manifest.SPECIAL_TOKENS])

    @property
    def eos_ids(self) -> tuple[int, ...]:
        return tuple(int(i) for i in self.special_tokens.get("eos") or ())

    @property
    def chat_template(self) -> str | None:
        return self.raw.get(Manifest.CHAT_TEMPLATE)

    @property
    def add_bos(self) -> bool:
        return bool(self.raw.get(Manifest.ADD_BOS))

    def file(self, key: str) -> Path:
        return self.path / self.raw[Manifest.GRAPH][key]

    @property
    def tokenizer_path(self) -> Path:
        return self.path / self.raw[Manifest.TOKENIZER]


def read_manifest(bundle_dir: Path, verify_hashes: bool = False) -> BundleManifest:
    bundle_dir = Path(bundle_dir)
    path = bundle_dir / contract.MANIFEST_FILE
    if not path.is_file():
        raise BundleError(f"{path}: missing (is {bundle_dir} a model bundle? run `ghostwright model pull`)")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BundleError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(raw, dict) or raw.get(Manifest.FORMAT) != contract.FORMAT:
        raise BundleError(f"{path}: not a {contract.FORMAT} manifest")
    version = raw.get(Manifest.FORMAT_VERSION)
    if version != contract.FORMAT_VERSION:
        newer = isinstance(version, int) and version > contract.FORMAT_VERSION
        hint = "upgrade ghostwright" if newer else "re-export it with `ghostwright model export`"
        raise BundleError(
            f"{path}: format version {version!r}, this ghostwright reads {contract.FORMAT_VERSION}: {hint}"
        )
    for key in (Manifest.NAME, Manifest.VARIANT, Manifest.CONFIG, Manifest.DTYPE, Manifest.GRAPH,
                Manifest.TOKENIZER, Manifest.SPECIAL_TOKENS, Manifest.FILES):
        if key not in raw:
            raise BundleError(f"{path}: missing key {key!r}")
    try:
        config = ModelConfig.from_json(raw[Manifest.CONFIG])
    except (TypeError, ValueError) as exc:
        raise BundleError(f"{path}: bad config ({exc})") from exc
    expected = [contract.INPUT_IDS, contract.SEQLENS_K, contract.TOTAL_SEQUENCE_LENGTH]
    for i in range(config.num_layers):
        expected += [contract.past_key(i), contract.past_value(i)]
    if raw[Manifest.GRAPH].get("inputs") != expected:
        raise BundleError(f"{path}: graph inputs do not match this ghostwright's contract")
    for name, meta in raw[Manifest.FILES].items():
        file = bundle_dir / name
        if not file.is_file():
            raise BundleError(f"{file}: missing from the bundle")
        if file.stat().st_size != meta["bytes"]:
            raise BundleError(
                f"{file}: {file.stat().st_size} bytes, the manifest says {meta['bytes']} (truncated or replaced?)"
            )
        if verify_hashes and sha256_of(file) != meta["sha256"]:
            raise BundleError(f"{file}: sha256 does not match the manifest (corrupt?)")
    return BundleManifest(path=bundle_dir, raw=raw, config=config)
