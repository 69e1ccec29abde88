"""Stop strings across token boundaries, and UTF-8 characters split across tokens."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ghostwright.inference.text_stream import TextStream


class ByteTokens:
    """A decoder over byte tokens: each id is one byte, like byte-fallback vocabularies."""

    def __call__(self, ids: list[int]) -> str:
        return bytes(ids).decode("utf-8", errors="replace")


def feed(text: str, stop: list[str]) -> tuple[list[str], str, bool]:
    stream = TextStream(ByteTokens(), stop)
    pieces = []
    for b in text.encode():
        pieces.append(stream.push(b))
        if stream.stopped:
            break
    tail = stream.finish()
    return pieces, "".join(pieces) + tail, stream.stopped


def test_stop_string_spanning_tokens_is_cut_and_never_shown():
    pieces, out, stopped = feed("return x\n\ndef g():", ["\n\ndef"])
    assert stopped
    assert out == "return x"
    assert all("\n\n" not in p for p in pieces)


def test_partial_stop_prefix_is_released_when_it_does_not_complete():
    _, out, stopped = feed("a\nb\nc", ["\n\n"])
    assert not stopped
    assert out == "a\nb\nc"


def test_utf8_split_across_tokens_streams_whole_characters_only():
    pieces, out, _ = feed("héllo 🙂 你好", [])
    assert out == "héllo 🙂 你好"
    assert all("\ufffd" not in p for p in pieces)
    assert "" in pieces  # some bytes were held back until their character completed


def test_earliest_of_several_stop_strings_wins():
    _, out, stopped = feed("x = 1\n```\nmore", ["```", "\nmore"])
    assert stopped and out == "x = 1\n"


def test_healed_prefix_is_not_emitted_again():
    stream = TextStream(ByteTokens(), [], skip="dat")
    pieces = [stream.push(b) for b in b"data)"]
    assert "".join(pieces) + stream.finish() == "a)"


def _metaspace_tokenizer():
    """A sentencepiece-shaped tokenizer (Metaspace: the decoder drops the leading "▁" of a
    string), the kind where decoding a window differs from decoding it in context."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True))
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Sequence([decoders.ByteFallback(), decoders.Metaspace()])
    corpus = ["def add(a, b):\n    return a + b\n", "héllo wörld 你好 🙂 ok", "for i in range(10): print(i)"] * 20
    tok.train_from_iterator(corpus, trainers.BpeTrainer(
        vocab_size=300, special_tokens=["<unk>"] + [f"<0x{b:02X}>" for b in range(256)]))
    return tok


@pytest.fixture(scope="module", params=["byte-level", "metaspace", "default model"])
def decode(request, tiny_tokenizer):
    if request.param == "byte-level":
        tok = tiny_tokenizer
    elif request.param == "metaspace":
        tok = _metaspace_tokenizer()
    else:  # the real default model's tokenizer (pulled once per run, as the e2e tests need it anyway)
        from tokenizers import Tokenizer

        from ghostwright.export.models import pull_profile

        full = pull_profile(request.getfixturevalue("default_profile"))["full"]
        tok = Tokenizer.from_file(str(full / "tokenizer.json"))
    return tok, lambda ids: tok.decode(ids, skip_special_tokens=True)


@given(data=st.data())
@settings(max_examples=150, deadline=None, database=None)
def test_incremental_decoding_streams_exactly_the_whole_decode(decode, data):
    tok, run = decode
    vocab = min(tok.get_vocab_size(), 160_000)
    ids = data.draw(st.lists(st.integers(0, vocab - 1) | st.sampled_from(_sample_ids(tok)), max_size=60))
    stream = TextStream(run, [])
    pieces = [stream.push(i) for i in ids]
    assert all(not p.endswith("\ufffd") for p in pieces)
    assert "".join(pieces) + stream.finish() == run(ids).rstrip("\ufffd")


def _sample_ids(tok) -> list[int]:
    """Ids of real text, multi-byte characters included: what models mostly emit."""
    return tok.encode("    def área(self):\n        return '你好 🙂' + x  # ok\n").ids
