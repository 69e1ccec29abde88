"""Stop strings across token boundaries, and UTF-8 characters split across tokens."""

from __future__ import annotations

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
