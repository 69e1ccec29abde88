"""Build a `tokenizers` Tokenizer from a GGUF file's byte-level BPE vocabulary.

GGUF stores the vocabulary, the merges, token types and the name of a pre-tokenizer
(``tokenizer.ggml.pre``); llama.cpp hard-codes the split rule for each name. We do the
same for the names we know, and refuse the others rather than tokenize subtly wrong.
"""

from __future__ import annotations

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers

from ghostwright.errors import UnsupportedModelError

# GGUF token types (gguf.TokenType): 3 = control, 4 = user-defined.
CONTROL_TOKEN = 3
USER_DEFINED_TOKEN = 4

_LLAMA3_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
_QWEN2_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)


def _pre_tokenizer(pre: str) -> pre_tokenizers.PreTokenizer:
    """The split rule llama.cpp applies for ``tokenizer.ggml.pre`` = ``pre``."""
    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    if pre in ("smollm", "starcoder", "refact", "codeshell"):
        # GPT-2's split, with every digit its own token first.
        return pre_tokenizers.Sequence(
            [pre_tokenizers.Digits(individual_digits=True), byte_level]
        )
    if pre in ("gpt-2", "gpt2", "default"):
        return byte_level
    split = {"llama-bpe": _LLAMA3_SPLIT, "llama3": _LLAMA3_SPLIT, "qwen2": _QWEN2_SPLIT}.get(pre)
    if split is None:
        raise UnsupportedModelError(f"unsupported GGUF pre-tokenizer {pre!r}")
    return pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(split), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )


def build_bpe_tokenizer(
    tokens: list[str], merges: list[str], token_types: list[int], pre: str
) -> Tokenizer:
    vocab = {token: i for i, token in enumerate(tokens)}
    pairs = [tuple(m.split(" ", 1)) for m in merges]
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=pairs, fuse_unk=False))
    tokenizer.pre_tokenizer = _pre_tokenizer(pre)
    tokenizer.decoder = decoders.ByteLevel()
    kinds = list(zip(tokens, token_types, strict=True))
    control = [AddedToken(t, special=True, normalized=False) for t, k in kinds if k == CONTROL_TOKEN]
    user = [AddedToken(t, normalized=False) for t, k in kinds if k == USER_DEFINED_TOKEN]
    if control:
        tokenizer.add_special_tokens(control)
    if user:
        tokenizer.add_tokens(user)
    return tokenizer
