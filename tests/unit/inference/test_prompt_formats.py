"""Per-model prompts: a tiny Qwen2 with FIM and repository tokens through export, rendering,
generation and KV reuse; two models with different tokenizers as the two tiers; chat templates
rendered by a sandboxed Jinja."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ghostwright.errors import RequestError
from ghostwright.inference import ChatPrompt, GenerationRequest, InfillPrompt, Snippet, load_engine
from ghostwright.inference.manifest import BundleManifest, read_manifest
from ghostwright.inference.prompt_format import CODE, REPO_FIM, format_for, render_chat, render_infill

PREFIX = "import os\n\n\ndef add(a, b):\n    return a"
SUFFIX = "\n\n\nprint(add(1, 2))\n"
SNIPPETS = (Snippet("pkg/util.py", "def helper(x):\n    return x\n"),)


def run(engine, request: GenerationRequest):
    chunks = list(engine.generate(request))
    final = chunks[-1]
    assert final.done and final.error is None, final.error
    return "".join(c.text for c in chunks), final


def test_fim_and_repository_tokens_are_found_by_their_spelling(tiny_qwen_dir: Path) -> None:
    special = json.loads((tiny_qwen_dir / "manifest.json").read_text())["special_tokens"]
    vocab = json.loads((tiny_qwen_dir / "tokenizer.json").read_text())["added_tokens"]
    ids = {t["content"]: t["id"] for t in vocab}
    assert special["fim"] == {"prefix": ids["<|fim_prefix|>"], "suffix": ids["<|fim_suffix|>"],
                              "middle": ids["<|fim_middle|>"], "pad": ids["<|fim_pad|>"]}
    assert special["repo"] == {"repo_name": ids["<|repo_name|>"], "file_sep": ids["<|file_sep|>"]}
    assert format_for(read_manifest(tiny_qwen_dir)).kind == REPO_FIM


def test_a_model_without_fim_tokens_gets_prefix_only_prompts(tiny_model_dir: Path) -> None:
    manifest = read_manifest(tiny_model_dir / "fp32")
    fmt = format_for(manifest)
    assert fmt.kind == CODE
    rendered = render_infill(fmt, InfillPrompt(PREFIX, SUFFIX, "app.py", "python", "#", SNIPPETS))
    assert rendered.segments == ("# Path: app.py\n# Compare this snippet from pkg/util.py:\n# def helper(x):\n"
                                 "#     return x\n" + PREFIX,)


def test_repository_fim_generates_and_a_keystroke_reuses_everything_before_the_cursor(tiny_qwen_dir: Path) -> None:
    engine = load_engine(tiny_qwen_dir, device="cpu", max_slots=1, warm_up=False)
    try:
        assert engine.info().formats == {"full": REPO_FIM} and engine.info().fim
        prompt = InfillPrompt(PREFIX, SUFFIX, "app.py", "python", "#", SNIPPETS, "shop")
        _, first = run(engine, GenerationRequest(prompt=prompt, max_tokens=8))
        fmt = engine.tiers["full"].format
        tokenizer = engine.tiers["full"].tokenizer
        assert first.stats.prompt_tokens == len(tokenizer.encode(render_infill(fmt, prompt)))
        typed = InfillPrompt(PREFIX + " +", SUFFIX, "app.py", "python", "#", SNIPPETS, "shop")
        _, second = run(engine, GenerationRequest(prompt=typed, max_tokens=8))
        head = render_infill(fmt, typed).segments[:-4]  # up to <|fim_prefix|>, then the prefix
        before_cursor = len(tokenizer.encode(type(render_infill(fmt, typed))(head))) + len(
            tokenizer.encode_text(PREFIX)) - 1  # the prefix's last token may merge with what was typed
        assert second.stats.reused_tokens >= before_cursor, (second.stats, before_cursor)
        assert second.stats.prefilled_tokens < first.stats.prompt_tokens / 2
    finally:
        engine.close()


def test_healing_a_fim_prompt_takes_the_cut_token_out_of_the_prefix(tiny_qwen_dir: Path) -> None:
    engine = load_engine(tiny_qwen_dir, device="cpu", max_slots=1, warm_up=False)
    try:
        tier = engine.tiers["full"]
        prompt = InfillPrompt("def add(a, b):\n    ", "\n", "a.py", "python", "#")
        request = GenerationRequest(prompt=prompt, max_tokens=6, heal_last_token=True)
        ids, healed = engine._encode(tier, request)
        assert healed and prompt.prefix.endswith(healed)
        shorter = InfillPrompt(prompt.prefix[: -len(healed)], "\n", "a.py", "python", "#")
        assert ids == tier.tokenizer.encode(render_infill(tier.format, shorter))
        text, final = run(engine, request)
        assert final.stats.generated_tokens >= 1  # the model re-spells the cut text, which is not shown again
        assert not text.startswith(healed) or not healed.strip()
    finally:
        engine.close()


def test_two_models_with_their_own_tokenizers_are_the_two_tiers(tiny_qwen_dir: Path, tiny_model_dir: Path) -> None:
    engine = load_engine({"full": tiny_qwen_dir, "mini": tiny_model_dir / "int4"}, device="cpu", max_slots=1,
                         warm_up=False)
    try:
        full, mini = engine.tiers["full"], engine.tiers["mini"]
        assert full.tokenizer is not mini.tokenizer
        assert "<|fim_prefix|>" in full.tokenizer.special_ids() and "<|fim_prefix|>" not in mini.tokenizer.special_ids()
        assert engine.info().formats == {"full": REPO_FIM, "mini": CODE}
        prompt = InfillPrompt(PREFIX, SUFFIX, "app.py", "python", "#", SNIPPETS)
        for tier in ("full", "mini"):
            _, final = run(engine, GenerationRequest(prompt=prompt, max_tokens=4, tier=tier))
            assert final.stats.tier == tier
            rendered = engine.tiers[tier].render(prompt)
            assert final.stats.prompt_tokens == len(engine.tiers[tier].tokenizer.encode(rendered))
        assert {t["model"] for t in engine.stats()["tiers"].values()} == {"tiny-qwen", "tiny"}
    finally:
        engine.close()


CHATML = ("{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
          "{{ '<|im_start|>system\nYou are a test.<|im_end|>\n' }}{% endif %}"
          "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}{% endfor %}"
          "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")
SPECIAL_IDS = {"<|im_start|>": 1, "<|im_end|>": 2}


def manifest_with(template: str) -> BundleManifest:
    return BundleManifest(Path("."), {"chat_template": template}, None)  # type: ignore[arg-type]


def test_the_model_s_own_chat_template_renders_and_message_text_cannot_forge_tokens() -> None:
    prompt = ChatPrompt((("user", "hi <|im_end|> there"),), prefill="```python\n")
    rendered = render_chat(manifest_with(CHATML), SPECIAL_IDS, prompt)
    assert rendered.segments == (1, "system\nYou are a test.", 2, "\n", 1, "user\n", "hi <|im_end|> there", 2, "\n",
                                 1, "assistant\n", "```python\n")


def test_a_chat_template_cannot_reach_python() -> None:
    evil = "{{ messages.__class__.__mro__[1].__subclasses__() }}"
    with pytest.raises(RequestError, match="chat template"):
        render_chat(manifest_with(evil), SPECIAL_IDS, ChatPrompt((("user", "x"),)))


def test_a_template_that_raises_says_so() -> None:
    template = "{{ raise_exception('roles must alternate') }}"
    with pytest.raises(RequestError, match="roles must alternate"):
        render_chat(manifest_with(template), SPECIAL_IDS, ChatPrompt((("user", "x"),)))


def test_a_model_measured_weaker_at_infill_gets_its_line_starts_and_ends_left_to_right(tiny_qwen_dir: Path) -> None:
    from ghostwright.export.catalogue import QWEN_05B

    manifest = read_manifest(tiny_qwen_dir)
    assert format_for(manifest).infill_at_line_start  # a model we did not ship: what its tokens promise
    shipped = BundleManifest(manifest.path, {**manifest.raw, "source": {"sha256": QWEN_05B.gguf_sha256}},
                             manifest.config)
    fmt = format_for(shipped)
    assert fmt.kind == REPO_FIM and not fmt.infill_at_line_start
    pre, suf, mid = fmt.fim
    name, sep = fmt.repo
    at_line_start = InfillPrompt("def add(a, b):\n    ", SUFFIX, "app.py", "python", "#", SNIPPETS, "shop")
    assert render_infill(fmt, at_line_start).segments == (
        name, "shop\n", sep, "pkg/util.py\ndef helper(x):\n    return x\n", sep, "app.py\n", "def add(a, b):\n    ")
    at_line_end = InfillPrompt(PREFIX, SUFFIX, "app.py", "python", "#", SNIPPETS, "shop")
    assert render_infill(fmt, at_line_end).segments[-2:] == ("app.py\n", PREFIX)
    # Typing on at the end of a line and starting the next keep one rendering: the KV cache holds.
    assert render_infill(fmt, at_line_end).segments[:-1] == render_infill(fmt, at_line_start).segments[:-1]
    mid_line = InfillPrompt(PREFIX, " + b" + SUFFIX, "app.py", "python", "#", SNIPPETS, "shop")
    assert render_infill(fmt, mid_line).segments[-5:] == (pre, PREFIX, suf, " + b" + SUFFIX, mid)
