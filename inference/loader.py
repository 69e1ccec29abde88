"""``load_engine``: from bundles on disk to a running engine, or a clear refusal.

A profile gives each tier its own bundle (``{"full": qwen/int8, "mini": smollm2/int4}``): each
tier then has its own tokenizer and prompt format. A model directory holding several variants
(fp32/, fp16/, int8/, w8a8/, int4/) gives two tiers of one model: "full" (fp16 on CUDA; w8a8, else
int8, on CPU, else fp32) and "mini" (int4). A single variant directory gives one.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ghostwright.errors import BundleError, EngineError
from ghostwright.export import contract
from ghostwright.inference.decoder import Decoder
from ghostwright.inference.engine import OnnxEngine, Tier
from ghostwright.inference.kv_cache import KVCache, SlotPool
from ghostwright.inference.manifest import BundleManifest, read_manifest
from ghostwright.inference.ort_session import cuda_usable
from ghostwright.inference.prompt_format import format_for
from ghostwright.inference.router import Router
from ghostwright.inference.tokenization import TextTokenizer

log = logging.getLogger(__name__)


def _available_memory() -> int | None:
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _tier_bundles(path: Path, device: str) -> dict[str, Path]:
    if (path / contract.MANIFEST_FILE).is_file():
        return {"full": path}
    variants = {v: path / v for v in contract.VARIANTS if (path / v / contract.MANIFEST_FILE).is_file()}
    if not variants:
        raise BundleError(f"{path}: no model bundle here (expected {contract.MANIFEST_FILE} or "
                          f"{', '.join(v + '/' for v in contract.VARIANTS)}); `ghostwright model pull` fetches the "
                          "shipped models, `ghostwright model export GGUF --name NAME` turns your own into one")
    # w8a8's int8 x int8 products are a CPU kernel (onnxruntime's CUDA provider has none).
    preferred = ("fp16", "int8", "fp32") if device == "cuda" else ("w8a8", "int8", "fp32")
    full = next((v for v in preferred if v in variants), None)
    tiers = {}
    if full:
        tiers["full"] = variants[full]
    if "int4" in variants:
        tiers["mini"] = variants["int4"]
    if not tiers:
        tiers["full"] = next(iter(variants.values()))
    return tiers


def _check_fits(manifests: list[BundleManifest], kv_bytes: int) -> None:
    need = kv_bytes + sum(m.file("data").stat().st_size for m in manifests if m.file("data").is_file())
    available = _available_memory()
    if available is not None and need > available:
        raise EngineError(
            f"the model needs about {need / 2**30:.1f} GiB (weights and KV cache) but only "
            f"{available / 2**30:.1f} GiB of memory is available; use a smaller variant "
            "(int4), fewer slots or a shorter cache"
        )


def load_engine(bundle_dir: str | Path | dict[str, Path], device: str = "auto", *, threads: int | None = None,
                max_slots: int = 3, cache_tokens: int = 2048, full_token_budget: int | None = None,
                tiers: tuple[str, ...] | None = None, warm_up: bool = True) -> OnnxEngine:
    """Load the bundle(s) under ``bundle_dir`` (or a tier -> bundle mapping) into a running engine.

    device: auto (CUDA when onnxruntime has it and a GPU answers, else CPU) | cpu | cuda.
    tiers: restrict to some of ("full", "mini").
    warm_up: run a short request per tier before returning (measures speeds for the router).
    """
    if device not in ("auto", "cpu", "cuda"):
        raise EngineError(f"unknown device {device!r} (auto, cpu or cuda)")
    want = "cuda" if device == "cuda" or (device == "auto" and cuda_usable()) else "cpu"
    if isinstance(bundle_dir, dict):
        paths = {tier: _tier_bundles(Path(p), want)["full"] for tier, p in bundle_dir.items()}
    else:
        paths = _tier_bundles(Path(bundle_dir), want)
    if tiers:
        paths = {k: v for k, v in paths.items() if k in tiers} or paths
    manifests = {name: read_manifest(p) for name, p in paths.items()}
    kv = sum(KVCache.nbytes(m.config.num_layers, m.config.num_kv_heads, m.config.head_dim,
                            min(cache_tokens, m.config.max_position_embeddings),
                            "float16" if m.dtype == "float16" else "float32") * max_slots
             for m in manifests.values())
    _check_fits(list(manifests.values()), kv)
    built: dict[str, Tier] = {}
    tokenizers: dict[bytes, TextTokenizer] = {}  # two variants of one model share one tokenizer
    for name, manifest in manifests.items():
        try:
            decoder = Decoder(manifest, want, threads)
        except EngineError:
            if device != "auto" or want == "cpu":
                raise
            log.warning("CUDA failed for %s; falling back to CPU", manifest.path)
            decoder = Decoder(manifest, "cpu", threads)
        capacity = min(cache_tokens, manifest.config.max_position_embeddings)
        pool = SlotPool(lambda d=decoder, n=capacity: d.allocate_cache(n), max_slots, capacity)
        key = manifest.tokenizer_path.read_bytes()
        if key not in tokenizers:
            tokenizers[key] = TextTokenizer(manifest.tokenizer_path, manifest.config.vocab_size,
                                            manifest.special_tokens.get("bos"), manifest.add_bos)
        built[name] = Tier(name, decoder, pool, manifest, tokenizers[key], format_for(manifest))
        log.info("tier %s: %s/%s on %s (%s prompts)", name, manifest.name, manifest.variant, decoder.device,
                 built[name].format.kind)
    engine = OnnxEngine(built, Router(tuple(built), full_token_budget=full_token_budget))
    if warm_up:
        engine.warm_up()
    return engine
