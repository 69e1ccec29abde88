"""``ghostwright model verify``: prove a bundle on disk is whole and computes the model.

Checks every file against the manifest's sha256, then runs the graph on a short prompt
and compares its logits with the numpy reference run on the original weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ghostwright.errors import BundleError
from ghostwright.export import reference
from ghostwright.export.bundle import read_source

VERIFY_TEXT = "def fibonacci(n):\n    if n < 2:\n        return n\n"


@dataclass(frozen=True)
class VerifyReport:
    path: Path
    tokens: int
    max_abs_diff: float | None  # None when the source weights are not on this machine
    top1_agree: bool | None


def verify_bundle(bundle: Path, against_reference: bool = True) -> VerifyReport:
    from ghostwright.inference.decoder import Decoder
    from ghostwright.inference.manifest import read_manifest
    from ghostwright.inference.tokenization import TextTokenizer

    manifest = read_manifest(bundle, verify_hashes=True)
    tokenizer = TextTokenizer(manifest.tokenizer_path, manifest.config.vocab_size,
                              manifest.special_tokens.get("bos"), manifest.add_bos)
    ids = tokenizer.encode_text(VERIFY_TEXT)
    decoder = Decoder(manifest, "cpu")
    logits = decoder.forward(decoder.allocate_cache(len(ids) + 1), ids, 0)
    if not np.all(np.isfinite(logits)):
        raise BundleError(f"{bundle}: the graph produced non-finite logits")
    source_path = Path(manifest.raw["source"].get("path", ""))
    if not against_reference or not source_path.exists():
        return VerifyReport(bundle, len(ids), None, None)
    source = read_source(source_path)
    weights = {name: source.load_tensor(name) for name in source.required_tensors()}
    expected = reference.forward(source.config, weights, ids)[-1]
    return VerifyReport(bundle, len(ids), float(np.abs(logits - expected).max()),
                        bool(logits.argmax() == expected.argmax()))
