"""Write a model bundle: graph, weights, tokenizer and manifest, all or nothing.

Each variant is written into a temporary sibling directory and renamed into place at
the end, so an interrupted or failed export never leaves a half-written bundle where
inference would find it.
"""

from __future__ import annotations

import json
import logging
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import onnx
from tokenizers import Tokenizer

from ghostwright import __version__
from ghostwright.errors import ModelSourceError
from ghostwright.export import contract
from ghostwright.export.contract import Manifest
from ghostwright.export.graph import VARIANT_SPECS, DecoderGraphBuilder, VariantSpec
from ghostwright.export.importance import calibration_ids, input_importance
from ghostwright.export.quantize import BLOCK_SIZE
from ghostwright.export.source import ModelSource, sha256_of
from ghostwright.export.weights_writer import WeightsWriter

log = logging.getLogger(__name__)


def validate_tokenizer(source: ModelSource) -> Tokenizer:
    """The tokenizer must fit the embedding table, and the special ids must exist."""
    origin = source.tokenizer_origin or source.provenance.get("path", source.name)
    tokenizer = Tokenizer.from_str(source.tokenizer_json)
    size = tokenizer.get_vocab_size(with_added_tokens=True)
    rows = source.config.vocab_size
    if size > rows:
        raise ModelSourceError(
            f"{origin}: the tokenizer has {size} tokens but the embedding has {rows} rows"
        )
    special = source.special_tokens
    ids = [special.bos, special.pad, *special.eos]
    if special.fim:
        ids += [special.fim.prefix, special.fim.suffix, special.fim.middle, special.fim_pad]
    if special.repo:
        ids += [special.repo.repo_name, special.repo.file_sep]
    bad = [i for i in ids if i is not None and not 0 <= i < size]
    if bad:
        raise ModelSourceError(f"{origin}: special token ids {bad} are outside the vocabulary of {size}")
    return tokenizer


def manifest_for(source: ModelSource, variant: str, name: str) -> dict[str, Any]:
    spec = VARIANT_SPECS[variant]
    c = source.config
    special = source.special_tokens
    inputs = [contract.INPUT_IDS, contract.SEQLENS_K, contract.TOTAL_SEQUENCE_LENGTH]
    outputs = [contract.LOGITS]
    for i in range(c.num_layers):
        inputs += [contract.past_key(i), contract.past_value(i)]
        outputs += [contract.present_key(i), contract.present_value(i)]
    return {
        Manifest.FORMAT: contract.FORMAT,
        Manifest.FORMAT_VERSION: contract.FORMAT_VERSION,
        Manifest.NAME: name,
        Manifest.VARIANT: variant,
        Manifest.ARCHITECTURE: c.architecture,
        Manifest.CONFIG: c.to_json(),
        Manifest.DTYPE: str(spec.dtype),
        Manifest.QUANTIZATION: _quantization(spec),
        Manifest.TOKENIZER: contract.TOKENIZER_FILE,
        Manifest.SPECIAL_TOKENS: {
            "bos": special.bos,
            "eos": list(special.eos),
            "pad": special.pad,
            "fim": (
                {"prefix": special.fim.prefix, "suffix": special.fim.suffix, "middle": special.fim.middle,
                 "pad": special.fim_pad}
                if special.fim else None
            ),
            "repo": {"repo_name": special.repo.repo_name, "file_sep": special.repo.file_sep} if special.repo else None,
        },
        Manifest.ADD_BOS: source.add_bos,
        Manifest.CHAT_TEMPLATE: source.chat_template,
        Manifest.GRAPH: {
            "file": contract.MODEL_FILE,
            "data": contract.WEIGHTS_FILE,
            "inputs": inputs,
            "outputs": outputs,
            "kv_layout": "BNSH",
            "max_sequence_length": c.max_position_embeddings,
        },
        Manifest.SOURCE: dict(source.provenance),
    }


def _quantization(spec: VariantSpec) -> dict[str, Any] | None:
    if not spec.quantized:
        return None
    blocks = {"head_bits": spec.head_bits, "head_shortlist": spec.head_shortlist, "block_size": BLOCK_SIZE,
              "accuracy_level": spec.accuracy_level, "zero_points": "uint"}  # the head's and embedding's
    if spec.int8_activations:
        return {"method": contract.INT8_ACTIVATIONS_METHOD, "activations": "int8 per step",
                "weights": "int8 per channel", **blocks}
    return {"method": "MatMulNBits", "bits": spec.weight_bits, **blocks}


def export_variant(source: ModelSource, variant: str, out_dir: Path, name: str | None = None) -> Path:
    """Export one variant into ``out_dir`` (replaced atomically if it exists)."""
    started = time.perf_counter()
    name = name or source.name
    tokenizer = validate_tokenizer(source)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        spec = VARIANT_SPECS[variant]
        # 4 bits cannot be exact, so their rounding is weighed by what each input feature carries;
        # 8 bits are all but exact, and skipping the calibration pass keeps their export quick.
        calibration = calibration_ids(source) if spec.weight_bits == 4 else None
        importance = input_importance(source, calibration) if calibration else None
        writer = WeightsWriter(tmp / contract.WEIGHTS_FILE)
        try:
            model = DecoderGraphBuilder(source.config, spec, writer, source.load_tensor,
                                        progress=_progress(f"{name}/{variant}"), importance=importance).build()
        finally:
            writer.close()
        onnx.save_model(model, tmp / contract.MODEL_FILE)
        tokenizer.save(str(tmp / contract.TOKENIZER_FILE))
        manifest = manifest_for(source, variant, name)
        if calibration:
            manifest[Manifest.QUANTIZATION]["importance"] = {"tokens": sum(map(len, calibration))}
        manifest[Manifest.FILES] = {
            f.name: {"bytes": f.stat().st_size, "sha256": sha256_of(f)}
            for f in sorted(tmp.iterdir())
        }
        manifest[Manifest.EXPORTER] = {"version": __version__, "revision": contract.EXPORT_REVISION,
                                       "seconds": round(time.perf_counter() - started, 2)}
        (tmp / contract.MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        if out_dir.exists():
            shutil.rmtree(out_dir)
        tmp.rename(out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("exported %s/%s in %.1fs", name, variant, time.perf_counter() - started)
    return out_dir


def _progress(what: str) -> Callable[[int, int], None]:
    """Layer-by-layer progress on stderr: one updating line on a terminal, a line a quarter otherwise."""
    started = time.perf_counter()
    tty = sys.stderr.isatty()

    def report(done: int, total: int) -> None:
        elapsed = time.perf_counter() - started
        if tty:
            end = "\n" if done == total else ""
            print(f"\rghostwright: exporting {what}: layer {done}/{total}, {elapsed:.0f} s", end=end, file=sys.stderr,
                  flush=True)
        elif done == total or done * 4 // total != (done - 1) * 4 // total:  # a line a quarter, for logs
            print(f"ghostwright: exporting {what}: layer {done}/{total}, {elapsed:.0f} s", file=sys.stderr, flush=True)

    return report


def read_source(path: Path) -> ModelSource:
    """A GGUF file, a Hugging Face folder or a tuned model's folder, by what ``path`` is."""
    from ghostwright.export.gguf_source import read_gguf
    from ghostwright.export.hf_source import read_hf_folder
    from ghostwright.export.tuned_source import is_tuned_source, read_tuned_source

    path = Path(path)
    if is_tuned_source(path):
        return read_tuned_source(path)
    if path.is_dir():
        return read_hf_folder(path)
    if not path.exists():
        raise ModelSourceError(f"{path}: no such file or directory")
    return read_gguf(path)
