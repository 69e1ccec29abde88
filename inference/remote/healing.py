"""Token healing for backends that cannot constrain their first token.

Our engine re-chooses the prompt's last token itself. A plain OpenAI server cannot, and a
prefix that ends in an indentation run (``"...:\\n    "``) is a token boundary no model saw in
training: Qwen then writes the indentation a second time. So the indentation leaves the
prompt, and whatever of it the answer writes again leaves the answer: an answer that indents
less or not at all is kept as written after the user's indentation.
"""

from __future__ import annotations

from dataclasses import replace

from ghostwright.inference.api import AnyPrompt, InfillPrompt


def cut_indentation(prompt: AnyPrompt) -> tuple[AnyPrompt, str]:
    """(the prompt without its trailing indentation, that indentation); only a fill-in prompt
    whose last line holds nothing but spaces or tabs is cut."""
    if not isinstance(prompt, InfillPrompt):
        return prompt, ""
    last = prompt.prefix.rsplit("\n", 1)[-1]
    if not last or last.strip(" \t") or "\n" not in prompt.prefix:
        return prompt, ""
    return replace(prompt, prefix=prompt.prefix[: -len(last)]), last


class HealedStart:
    """Drops from the start of a streamed answer what it repeats of the cut indentation."""

    def __init__(self, cut: str) -> None:
        self.cut = cut
        self.held = ""
        self.done = not cut

    def feed(self, piece: str) -> str:
        if self.done:
            return piece
        self.held += piece
        common = 0
        while common < min(len(self.held), len(self.cut)) and self.held[common] == self.cut[common]:
            common += 1
        if common == len(self.held) and common < len(self.cut):
            return ""  # all indentation so far: wait for what follows
        self.done = True
        return self.held[common:]

    def flush(self) -> str:
        """The end of the answer: held indentation alone is no answer."""
        self.done = True
        return ""
