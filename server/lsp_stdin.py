"""stdin for pygls' read loop, made to find its footing again after a misframed message.

pygls finds a ``Content-Length`` header only at the start of a line, then reads exactly that many
bytes. A body is one line with no newline at its end, so after any misframed message the loop
would read the rest of that body and the next header as one line, miss the header, read the next
body the same way, and so on: the server would be deaf for good. And a Content-Length larger than
the body (a miscounted one, or a huge one) would swallow the messages after it, or wait for ever.

Two facts make the stream resynchronizable. A header is a raw ``Content-Length: N`` followed by
CR LF, and a JSON body can hold CR LF only as whitespace between tokens, never after a string's
text, so that sequence inside a body is always the next message's header. And a well-formed JSON
body ends with ``}``, never with the first characters of a header. So a body is cut where a
header starts inside it (the cut body then fails to parse and is answered as a parse error, or, if
the length was only too long, parses whole), and a header line is cut to its last header.
"""

from __future__ import annotations

import re
from typing import BinaryIO

HEADER = re.compile(rb"Content-Length: \d+\r\n")
NAME = b"Content-Length: "
LENGTH_SO_FAR = re.compile(rb"\d*\r?")
CHUNK = 1 << 16
LOOKAHEAD = 48  # longer than any header line, so a header across two reads is still found


class ResyncingStdin:
    """A buffered reader with ``readline`` and ``read`` as pygls calls them (from its executor thread)."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._buffer = bytearray()
        self._eof = False

    def readline(self) -> bytes:
        searched = 0
        while (end := self._buffer.find(b"\n", searched)) < 0:
            searched = len(self._buffer)  # a long junk line is scanned once, not once per read
            if not self._fill():
                break
        line = self._take(end + 1 if end >= 0 else len(self._buffer))
        start = line.rfind(b"Content-Length:")
        return line[start:] if start > 0 else line

    def read(self, n: int) -> bytes:
        """Up to ``n`` bytes, fewer where the next message's header starts inside them."""
        scanned = 0
        while True:
            end = min(len(self._buffer), n + LOOKAHEAD)
            header = HEADER.search(self._buffer, max(0, scanned - LOOKAHEAD), end)
            if header and header.start() < n:
                return self._take(header.start())
            if len(self._buffer) >= n and not _ends_in_partial_header(self._buffer[max(0, n - LOOKAHEAD):n]):
                return self._take(n)
            if len(self._buffer) >= n + LOOKAHEAD or not self._fill():
                return self._take(min(n, len(self._buffer)))
            scanned = end

    def _fill(self) -> bool:
        """Block for more bytes; False at end of input."""
        if self._eof:
            return False
        read1 = getattr(self._stream, "read1", None)
        data = read1(CHUNK) if read1 else self._stream.read(1)
        if not data:
            self._eof = True
            return False
        self._buffer += data
        return True

    def _take(self, n: int) -> bytes:
        taken = bytes(self._buffer[:n])
        del self._buffer[:n]
        return taken


def _ends_in_partial_header(tail: bytes | bytearray) -> bool:
    """Whether ``tail`` ends with the start of a header line that more bytes could complete.

    Only the last ``C`` can start one: the header's own text has no other.
    """
    start = tail.rfind(b"C")
    if start < 0:
        return False
    rest = bytes(tail[start:])
    if len(rest) <= len(NAME):
        return NAME.startswith(rest)
    return rest.startswith(NAME) and LENGTH_SO_FAR.fullmatch(rest, len(NAME)) is not None
