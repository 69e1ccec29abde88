"""The tokenizer built from a GGUF vocabulary tokenizes exactly like its source."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tokenizers import Tokenizer

from ghostwright.export.bundle import read_source
from support.tiny_model import TinySpec

GOLDEN = Path(__file__).parent / "golden"
SAMPLES = ["def f(x):\n    return x + 12345\n", "héllo wörld — 你好 🙂", "\t\ttabs  and   spaces\n\n"]


def test_gguf_tokenizer_equals_the_hf_tokenizer_it_came_from(tiny_sources, tiny_tokenizer):
    built = Tokenizer.from_str(read_source(tiny_sources(TinySpec(), "gguf:F32")).tokenizer_json)
    for text in SAMPLES:
        assert built.encode(text).ids == tiny_tokenizer.encode(text).ids
        assert built.decode(built.encode(text).ids) == text


def test_special_tokens_and_vocabulary_carry_over(tiny_sources, tiny_tokenizer):
    source = read_source(tiny_sources(TinySpec(), "gguf:F32"))
    built = Tokenizer.from_str(source.tokenizer_json)
    assert built.get_vocab() == tiny_tokenizer.get_vocab()
    assert source.special_tokens.bos == 1
    assert 2 in source.special_tokens.eos
    assert built.decode([1, 2], skip_special_tokens=True) == ""


@pytest.mark.default_model
@pytest.mark.parametrize(("tier", "golden", "vocab"), [
    ("full", "qwen2.5-coder_llama_cpp_tokens.json", 151_936),  # pre = qwen2
    ("mini", "smollm2_llama_cpp_tokens.json", 49_152),  # pre = smollm
])
def test_default_profile_tokenizers_match_llama_cpp(default_profile, tier, golden, vocab):
    """Ids recorded from llama.cpp itself (bench/make_tokenizer_golden.py): code, unicode, emoji,
    whitespace runs, digit groups, and control-token spellings that must stay text."""
    from ghostwright.engine_source import resolve

    tokenizer = Tokenizer.from_file(str(resolve(default_profile)[tier] / "tokenizer.json"))
    tokenizer.encode_special_tokens = True  # text that looks like a control token stays text
    cases = json.loads((GOLDEN / golden).read_text(encoding="utf-8"))["cases"]
    for case in cases:
        assert tokenizer.encode(case["text"], add_special_tokens=False).ids == case["ids"], case["text"]
        assert tokenizer.decode(case["ids"]) == case["text"]
    assert tokenizer.get_vocab_size() <= vocab
