"""Pull code out of a chat model's answer: the fenced block, or the answer itself.

The default model answers in Markdown most of the time, sometimes without closing the fence
(it hit the token limit) and sometimes with prose around the code; all of that is normal and
handled here rather than treated as a failure.
"""

from __future__ import annotations

import re

FENCE = re.compile(r"^[ \t]*```[ \t]*([\w+#.-]*)[ \t]*$", re.MULTILINE)


def extract_code(answer: str, prefill: str = "") -> str:
    """The code in ``prefill + answer``: the first fenced block (closed or not), else everything."""
    text = prefill + answer
    fences = list(FENCE.finditer(text))
    if not fences:
        return text.strip("\n")
    opening = fences[0]
    closing = fences[1] if len(fences) > 1 else None
    body = text[opening.end() + 1 : closing.start() if closing else len(text)]
    return body.rstrip() + "\n" if body.strip() else ""


def strip_trailing_prose(code: str) -> str:
    """Cut an unfenced answer where the code ends and an explanation starts."""
    lines = code.split("\n")
    for i, line in enumerate(lines):
        if i and line and not line[0].isspace() and re.match(r"^(This|The|Here|In this|Note|Explanation|Example)\b",
                                                             line):
            return "\n".join(lines[:i]).rstrip() + "\n"
    return code
