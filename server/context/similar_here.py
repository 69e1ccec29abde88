"""Code in the file being edited that looks like the code above the cursor.

The workspace index holds a file as it was last saved; the editor's text may differ (and in
``bench/cross_file.py`` the saved file still holds the very line being asked for), so a file's
own windows are cut from the editor's text, per request, over a bounded stretch of lines. The
windows and the ranking are :mod:`similar_code`'s, on identifier sets rather than hashes.
"""

from __future__ import annotations

from ghostwright.server.context.similar_code import MIN_SCORE, STRIDE, WINDOW_LINES, identifiers


def best_window(lines: list[str], code: str, min_score: float = MIN_SCORE) -> tuple[int, int, float] | None:
    """The window of ``lines`` (WINDOW_LINES long, STRIDE apart) most like ``code``, as [start, end)
    with blank edges dropped, and its score; None when none reaches ``min_score``. The first of
    equals wins: the nearest to the cursor when ``lines`` run down from it."""
    query = identifiers(code)
    if not query:
        return None
    words = [identifiers(line) for line in lines]  # each line read once; a window is a union of lines
    best, found = min_score, None
    for start in range(0, max(1, len(lines) - WINDOW_LINES + STRIDE), STRIDE):
        window = set().union(*words[start : start + WINDOW_LINES])
        shared = len(window & query)
        score = shared / (len(window) + len(query) - shared) if window else 0.0
        if score > best or (found is None and score >= best):
            best, found = score, start
    if found is None:
        return None
    start, end = found, min(found + WINDOW_LINES, len(lines))
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return (start, end, best) if end > start else None
