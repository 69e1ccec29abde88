"""Turn raw model output into a suggestion worth showing, or None.

Small models ramble: they finish the line and keep going, close a Markdown fence, start
explaining, repeat the line above, or type the ``)`` that already follows the cursor.
The rules, in order:

0. on a line that holds only indentation (not at column 0), leading blank lines are dropped: the model
   often "presses Enter" first, which would leave a whitespace-only line behind;
1. cut at a Markdown fence or a line of prose ("Here is", "This function"...);
2. single-line mode keeps the first line; multi-line mode stops at the first line that
   dedents below the block (a lone closer the suffix lacks is kept) or, at top level, at
   the next definition;
3. drop the part that duplicates the start of the suffix;
4. brackets: cut at a closer the suffix already provides; close what the completion
   opened when the suffix closes the line;
5. None if nothing is left or the suggestion repeats the line(s) just above.

``clean_partial`` applies 1-2 to a stream so far and says whether the stream can stop.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ghostwright.server.completion.trigger import SINGLE
from ghostwright.server.context.languages import spec_for

_PROSE = re.compile(
    r"^\s*(```|Here is|Here's|This (?:function|code|method|class|implementation|snippet|will)"
    r"|The (?:function|code|above|following)|Explanation:|Note:|In this (?:code|example)"
    r"|Example usage:|Output:)"
)
_CLOSER_LINE = re.compile(r"^\s*(?:[)\]}]+[;,)]*|end\b.*|fi|done|esac)\s*$")
_PAIRS = {")": "(", "]": "[", "}": "{"}
_OPEN = {v: k for k, v in _PAIRS.items()}


@dataclass(frozen=True)
class Partial:
    text: str  # safe to show now (complete lines, cleaned)
    done: bool  # a stop condition was reached: the request can be cancelled


def clean_completion(
    raw: str, *, prefix: str, suffix: str, mode: str, language: str | None
) -> str | None:
    """The suggestion to show for the finished output ``raw``, or None."""
    raw = _skip_leading_blank_lines(raw, prefix.rsplit("\n", 1)[-1])
    text, _ = _cut(raw, prefix, suffix, mode, language)
    line_before, rest_of_line = prefix.rsplit("\n", 1)[-1], suffix.split("\n", 1)[0]
    text = _trim_suffix_overlap(text, suffix, mode)
    text = _balance(text, line_before, rest_of_line, mode).rstrip()
    if not text.strip() or _repeats_above(text, prefix):
        return None
    if "\n" in text and rest_of_line.strip():  # keep "}" after the cursor on its own line
        text += "\n" + line_before[: len(line_before) - len(line_before.lstrip())]
    return text


def clean_partial(
    raw_so_far: str, *, prefix: str, suffix: str, mode: str, language: str | None
) -> Partial:
    """What can be shown while streaming: complete lines only, plus whether to stop now."""
    raw_so_far = _skip_leading_blank_lines(raw_so_far, prefix.rsplit("\n", 1)[-1])
    text, done = _cut(raw_so_far, prefix, suffix, mode, language)
    if not done:
        text = text[: text.rfind("\n") + 1] if "\n" in text else ""
    return Partial(text.rstrip() if done else text, done)


def _skip_leading_blank_lines(raw: str, line_before: str) -> str:
    """Start the suggestion at the cursor when the cursor sits in indentation already typed.

    Only when the first real line carries at least that indentation (it is then shown
    without it); a line that dedents is left alone, since inserting at the cursor could
    not express it.
    """
    if not line_before or line_before.strip():  # at column 0 a blank line may be intended (PEP 8)
        return raw
    lines = raw.replace("\r\n", "\n").split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:  # nothing but blank lines so far
        return "" if len(lines) > 1 else raw
    if first == 0 or not lines[first].startswith(line_before):
        return raw
    return "\n".join([lines[first][len(line_before):], *lines[first + 1:]])


def _cut(raw: str, prefix: str, suffix: str, mode: str, language: str | None) -> tuple[str, bool]:
    """(text up to the first stop condition, whether one was met)."""
    lines = raw.replace("\r\n", "\n").split("\n")
    line_before = prefix.rsplit("\n", 1)[-1]
    spec = spec_for(language)
    opener = spec is not None and re.search(spec.block_opener, line_before) is not None
    base = _indent_of(line_before)
    min_indent = base + 1 if opener and line_before.strip() else base
    starts = tuple(s.lstrip("\n") for s in spec.top_level_stops) if spec else ()
    kept: list[str] = []
    for number, line in enumerate(lines):
        if _PROSE.match(line) and (number > 0 or not line_before.strip()):
            return "\n".join(kept), True
        if number == 0:
            kept.append(line)
            continue
        if mode == SINGLE:
            return kept[0], True
        if not line.strip():
            kept.append(line)
            continue
        indent, seen = _indent_of(line), any(k.strip() for k in kept)
        if indent < min_indent:
            if _CLOSER_LINE.match(line) and not suffix.lstrip().startswith(line.strip()):
                kept.append(line)
            return "\n".join(kept), True
        if min_indent == 0 and seen and line.startswith(starts):
            return "\n".join(kept), True
        kept.append(line)
        if min_indent == 0 and seen and _CLOSER_LINE.match(line) and not line[:1].isspace():
            return "\n".join(kept), True
    return "\n".join(kept), False


def _balance(text: str, line_before: str, rest_of_line: str, mode: str) -> str:
    """Cut at a closer the rest of the line already provides; close what a single line opened."""
    pending = [c for c in rest_of_line if c in _PAIRS]
    stack: list[str] = []
    quote = _open_quote(line_before)
    for index, char in enumerate(text):
        previous = text[index - 1] if index else line_before[-1:]
        if quote:
            quote = None if char == quote and previous != "\\" else quote
        elif char in "\"'`":
            quote = char
        elif char in _OPEN:
            stack.append(char)
        elif char in _PAIRS:
            if stack and stack[-1] == _PAIRS[char]:
                stack.pop()
            elif not stack and mode == SINGLE and pending and pending[0] == char:
                return text[:index].rstrip()
    if mode == SINGLE and stack and rest_of_line.strip() and "\n" not in text:
        text += "".join(_OPEN[c] for c in reversed(stack))
    return text


def _open_quote(line: str) -> str | None:
    """The quote left open at the end of ``line``, if any (a naive scan, escapes honoured)."""
    quote: str | None = None
    for index, char in enumerate(line):
        if quote and char == quote and line[index - 1 : index] != "\\":
            quote = None
        elif quote is None and char in "\"'`":
            quote = char
    return quote


def _trim_suffix_overlap(text: str, suffix: str, mode: str) -> str:
    """Drop the end of ``text`` that the suffix already starts with."""
    rest = suffix.split("\n", 1)[0]
    if mode == SINGLE or "\n" not in text:
        whole = rest.rstrip()
        for size in range(len(whole), 0, -1):
            head = whole[:size]
            if text.endswith(head) and (size == len(whole) or not re.search(r"\w", head)):
                return text[:-size]
        return text
    following = [line.strip() for line in suffix.split("\n")[1:] if line.strip()]
    lines = text.split("\n")
    for size in range(len(lines) - 1, 0, -1):
        tail = [line.strip() for line in lines[-size:]]
        if all(tail) and tail == following[:size]:
            return "\n".join(lines[:-size])
    return text


def _repeats_above(text: str, prefix: str) -> bool:
    """The suggestion re-types the line(s) right above the cursor."""
    *above, line_before = prefix.split("\n")
    previous = [line.strip() for line in above if line.strip()]
    lines = (line_before + text).split("\n")
    written = [line.strip() for line in lines if line.strip()]
    return bool(previous) and bool(written) and written == previous[-len(written) :]


def _indent_of(line: str) -> int:
    expanded = line.expandtabs(4)
    return len(expanded) - len(expanded.lstrip())
