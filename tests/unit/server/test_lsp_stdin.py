"""ResyncingStdin over a pipe fed a few bytes at a time, so that headers and bodies split across reads."""

from __future__ import annotations

import os
import threading
import time
from typing import BinaryIO

import pytest

from ghostwright.server.lsp_stdin import ResyncingStdin


def frame(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def trickle(data: bytes, step: int) -> BinaryIO:
    """The read end of a pipe the bytes arrive on ``step`` at a time."""
    read_fd, write_fd = os.pipe()

    def feed() -> None:
        for start in range(0, len(data), step):
            os.write(write_fd, data[start:start + step])
            time.sleep(0.0005)
        os.close(write_fd)

    threading.Thread(target=feed, daemon=True).start()
    return os.fdopen(read_fd, "rb")


def bodies(stream: ResyncingStdin) -> list[bytes]:
    """What pygls' loop reads: a header line, the blank line, then Content-Length bytes."""
    read = []
    while line := stream.readline():
        if line.startswith(b"Content-Length: "):
            length = int(line.split()[1])
            assert stream.readline() == b"\r\n"
            read.append(stream.read(length))
    return read


A, B = b'{"id": 1, "text": "Content-Length: 5\\r\\n\\r\\n"}', b'{"id": 2}'


@pytest.mark.parametrize("step", [1, 7, 4096])
@pytest.mark.parametrize(("sent", "expected"), [
    (frame(A) + frame(B), [A, B]),  # a header's text inside a JSON string is not a header
    (b"Content-Length: %d\r\n\r\n" % (len(A) + 20) + A + frame(B), [A, B]),  # too long: cut at the next header
    (b"Content-Length: 99999999999\r\n\r\n" + A + frame(B), [A, B]),  # huge: no wait for bytes that never come
    (b"Content-Length: 10\r\n\r\n" + A + frame(B), [A[:10], B]),  # too short: the rest of the line is junk
    (A + frame(B), [B]),  # no header: the body is junk before the next one
    (b"Content-Length: %d\r\n\r\n" % (len(A) + 3) + A, [A]),  # too long at the end of input
], ids=["framed", "long", "huge", "short", "headerless", "long-at-eof"])
def test_each_body_is_read_up_to_the_next_header(sent: bytes, expected: list[bytes], step: int) -> None:
    assert bodies(ResyncingStdin(trickle(sent, step))) == expected


def test_a_body_ending_where_a_header_could_start_waits_for_the_bytes_that_decide() -> None:
    """The Content-Length ends 10 bytes into the next header ("Content-Le"): whether that is a header is known only
    from the bytes after it, so the read waits for them and the body ends before the header, not 10 bytes later."""
    sent = b"Content-Length: %d\r\n\r\n" % (len(A) + 10) + A + frame(B)
    assert bodies(ResyncingStdin(trickle(sent, 3))) == [A, B]
