"""The real models of the default profile through export and inference.

Pulled and exported once per machine (cached under GHOSTWRIGHT_HOME), then checked: SmolLM2's
logits against the numpy reference, its int8, w8a8 and int4 against fp32 on real code, and
completions from both tiers of the default profile (Qwen2.5-Coder-0.5B with FIM, SmolLM2).
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import numpy as np
import pytest

from ghostwright.engine_source import resolve
from ghostwright.export.verify import verify_bundle
from ghostwright.inference import FinishReason, GenerationRequest, InfillPrompt, load_engine
from ghostwright.inference.decoder import Decoder
from ghostwright.inference.manifest import read_manifest
from ghostwright.inference.tokenization import TextTokenizer

pytestmark = pytest.mark.default_model


def test_all_variants_exist_and_fp32_equals_the_reference(smollm2_dir):
    for variant in ("fp32", "fp16", "int8", "w8a8", "int4"):
        assert (smollm2_dir / variant / "manifest.json").is_file()
    report = verify_bundle(smollm2_dir / "fp32")
    print(f"\nfp32 vs numpy reference on {report.tokens} tokens: max |diff| = {report.max_abs_diff:.2e}")
    assert report.max_abs_diff < 1e-3
    assert report.top1_agree


def teacher_forced_top1(bundle, ids: list[int]) -> np.ndarray:
    decoder = Decoder(read_manifest(bundle), "cpu")
    cache = decoder.allocate_cache(len(ids) + 1)
    first = decoder.forward(cache, ids[:32], 0)
    tops = [first.argmax()]
    for pos in range(32, len(ids) - 1):
        tops.append(decoder.forward(cache, [ids[pos]], pos).argmax())
    return np.array(tops)


@pytest.mark.parametrize(("variant", "floor"), [
    ("int8", 0.90),  # must keep fp32's choices: measured 93.3% here with the 8-bit embedding (94.8% all-symmetric)
    ("int4", 0.70),  # measured 77% (Q4_1 weights rounded a second time into int4)
    ("w8a8", 0.80),  # measured 88.4% (int8 activations one scale a step, weights per channel)
])
def test_quantized_variants_agree_with_fp32_on_real_code(smollm2_dir, variant, floor):
    code = Path(textwrap.__file__).read_text(encoding="utf-8")[2000:6000]
    manifest = read_manifest(smollm2_dir / "fp32")
    tokenizer = TextTokenizer(manifest.tokenizer_path, manifest.config.vocab_size, None, False)
    ids = tokenizer.encode_text(code)[:300]
    fp32 = teacher_forced_top1(smollm2_dir / "fp32", ids)
    quantized = teacher_forced_top1(smollm2_dir / variant, ids)
    agreement = float(np.mean(fp32 == quantized))
    print(f"\n{variant} vs fp32 top-1 agreement over {len(fp32)} positions of textwrap.py: {agreement:.1%}")
    assert agreement >= floor


PREFIX = 'import math\n\n\ndef is_prime(n: int) -> bool:\n    """Return True if n is a prime number."""\n    '
SUFFIX = "\n\n\ndef primes_below(limit: int) -> list[int]:\n    return [n for n in range(limit) if is_prime(n)]\n"


@pytest.mark.parametrize("tier", ["full", "mini"])
def test_each_tier_of_the_default_profile_completes_a_function_body(default_profile, tier):
    """Qwen2.5-Coder fills the middle (it reads the suffix); SmolLM2 continues the prefix."""
    engine = load_engine(resolve(default_profile), device="cpu", tiers=(tier,), warm_up=False)
    try:
        assert engine.info().formats[tier] == ("repo-fim" if tier == "full" else "code")
        prompt = InfillPrompt(PREFIX, SUFFIX, "primes.py", "python", "#")
        chunks = list(engine.generate(GenerationRequest(prompt=prompt, max_tokens=100, tier=tier, heal_last_token=True,
                                                        stop=["\n\n\n", "\ndef ", "```"])))
    finally:
        engine.close()
    completion = "".join(c.text for c in chunks)
    print(f"\n{tier}: {completion!r} ({chunks[-1].finish})")
    assert "return" in completion
    if chunks[-1].finish == FinishReason.LENGTH:
        # Cut off mid-line at the limit: on some hosts SmolLM2's greedy answer here loops until it
        # (a fresh int4 export on an AVX2-only host does; CI's host ended it): check its whole lines.
        completion = completion[: completion.rindex("\n") + 1]
    ast.parse(PREFIX + completion + SUFFIX)
