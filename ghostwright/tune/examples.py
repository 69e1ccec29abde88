"""Training examples in the very format inline completion sends, so what is learned is what is asked.

Two kinds, mixed:

- **holes**: a span of one to ``MAX_SPAN_LINES`` lines of a file blanked to the first one's
  indentation, the prompt built by the server's own prompt builder at the cursor (budget,
  windows, the model's rendering: Qwen2.5-Coder's repository-level FIM, SmolLM2's prefix with
  the path header), the span as the answer. Loss is on the answer only: the model learns to fill
  this repository's lines. A hole prompt costs a whole forward pass of the budget; a span of
  several lines gets several times the loss tokens from it (a one-line answer was ~10 of ~500),
  and inline completion asks for blocks as well as lines.
- **continuation**: the file as the model reads it (a path header, then the code), loss on every
  code token: it learns the repository's names and style. For a model without FIM it is the
  plain continuation the issue asks for; for a FIM model it keeps left-to-right ability.

A hole is a line of at least ``MIN_HOLE_CHARS`` non-blank characters: blank lines and lone
brackets teach nothing and would flatter exact match.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from ghostwright.inference.api import InfillPrompt, Prompt
from ghostwright.inference.prompt_format import CODE, PromptFormat, render_infill
from ghostwright.inference.tokenization import TextTokenizer
from ghostwright.server.completion.prompt import CompletionPrompt, build_completion_prompt
from ghostwright.server.completion.render import SymbolIndex
from ghostwright.server.context.document import Document
from ghostwright.server.context.languages import spec_for
from ghostwright.tune.corpus import SourceFile

MIN_HOLE_CHARS = 6
HOLE_EVERY = 3
MAX_SPAN_LINES = 6
MIN_HOLES = 64  # a small repository's few windows still come with holes enough to learn the format
IGNORE = -100  # no loss at this position
T = TypeVar("T")


@dataclass(frozen=True)
class Hole:
    path: str
    line: int
    indent: str
    target: str  # the span's text after the first line's indentation (its lines joined by newlines)
    lines: int = 1  # how many lines the hole spans

    def document(self, text: str) -> tuple[str, int]:
        """The file with this span blanked to one line of its indentation, and the cursor's str offset."""
        lines = text.split("\n")
        lines[self.line : self.line + self.lines] = [self.indent]
        offset = sum(len(line) + 1 for line in lines[: self.line]) + len(self.indent)
        return "\n".join(lines), offset

    def widened(self, text: str, lines: int) -> Hole:
        """This hole grown to ``lines`` lines of the file (fewer at its end), the lines after the
        first kept whole."""
        rows = text.split("\n")[self.line : self.line + lines]
        return dataclasses.replace(self, target="\n".join([self.target, *rows[1:]]), lines=len(rows))


@dataclass(frozen=True)
class Example:
    ids: list[int]
    targets: list[int]  # the next token to predict at each position, or IGNORE

    @property
    def trained_tokens(self) -> int:
        return sum(t != IGNORE for t in self.targets)


def holes_in(file: SourceFile) -> list[Hole]:
    found = []
    for number, line in enumerate(file.text.split("\n")):
        body = line.strip()
        if len(body) >= MIN_HOLE_CHARS:
            found.append(Hole(file.relative, number, line[: len(line) - len(line.lstrip())], body))
    return found


def spread(holes: list[T], count: int) -> list[T]:
    """``count`` holes evenly spaced through the list (every hole when there are fewer)."""
    if len(holes) <= count:
        return holes
    step = len(holes) / count
    return [holes[int(i * step)] for i in range(count)]


@dataclass
class ExampleBuilder:
    """Renders holes and continuations for one model: its tokenizer and prompt format."""

    root: Path
    fmt: PromptFormat
    tokenizer: TextTokenizer  # the engine's: control ids kept, text encoded plainly
    end_id: int | None  # what ends a FIM answer (the model's EOS)
    budget_tokens: int = 512
    # Definitions other files give the prompt, as the server's workspace index does. Training
    # indexes the training files only, so no held-out line reaches a training prompt.
    index: SymbolIndex | None = None

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.encode_text(text))

    def hole_prompt(self, file: SourceFile, hole: Hole) -> tuple[Prompt, bool, CompletionPrompt]:
        """The prompt inline completion would send at this hole, whether it is FIM, and what
        the builder made (its windows and stop strings, for the post-processor)."""
        text, offset = hole.document(file.text)
        doc = Document((self.root / file.relative).as_uri(), "", text)
        built = build_completion_prompt(doc, offset, index=self.index, recent_edits=None,
                                        count_tokens=self.count_tokens, budget_tokens=self.budget_tokens,
                                        fim=self.fmt.kind != CODE, fim_at_line_start=self.fmt.infill_at_line_start,
                                        repo=self.root.name)
        prompt = render_infill(self.fmt, built.prompt)
        uses_fim = self.fmt.fim is not None and self.fmt.fim[2] in prompt.segments
        return prompt, uses_fim, built

    def hole(self, file: SourceFile, hole: Hole) -> Example:
        prompt, uses_fim, _ = self.hole_prompt(file, hole)
        end = [self.end_id] if uses_fim and self.end_id is not None else self.tokenizer.encode_text("\n")
        return _shifted(self.tokenizer.encode(prompt), self.tokenizer.encode_text(hole.target) + end)

    def continuations(self, file: SourceFile) -> Iterator[Example]:
        """The file in windows of the budget, each after the header a prompt at the top of this
        file has (the repository and path tokens, or the path comment); loss on the code."""
        spec = spec_for(None, file.relative)
        top = InfillPrompt("", "", file.relative, spec.name if spec else "", spec.comment if spec else None, (),
                           self.root.name)
        header = self.tokenizer.encode(render_infill(dataclasses.replace(self.fmt, infill_at_line_start=False), top))
        body = self.tokenizer.encode_text(file.text)
        width = max(self.budget_tokens - len(header), 16)
        for start in range(0, len(body), width):
            yield _shifted(header, body[start : start + width])

    def training_set(self, files: list[SourceFile], seed: int = 0) -> list[Example]:
        """Every continuation window of every file, and as many holes as windows but at least
        ``MIN_HOLES`` (at most one at every ``HOLE_EVERY``-th line with code, spread over the
        files), each spanning 1 to ``MAX_SPAN_LINES`` lines (seeded), shuffled (seeded).

        Why as many as windows: a row of continuation has ~500 tokens of loss, a hole ~30, at
        about twice the cost; with a hole at every third line (93% of a 1 MB repository's rows)
        Qwen2.5-Coder-0.5B's held-out hole loss was flat after 50 steps of 320 and its exact
        match did not move: the repository's names and idioms come from reading its code."""
        windows = [e for f in files for e in self.continuations(f)]
        candidates = spread([(f, h) for f in files for h in holes_in(f)[::HOLE_EVERY]], max(len(windows), MIN_HOLES))
        rng = random.Random(seed)
        examples = [self.hole(f, h.widened(f.text, rng.randint(1, MAX_SPAN_LINES))) for f, h in candidates]
        examples += windows
        random.Random(seed).shuffle(examples)
        return examples

    def hole_set(self, holes: list[tuple[SourceFile, Hole]]) -> list[Example]:
        """One-line hole examples: the held-out loss that tracks what the uplift scores."""
        return [self.hole(f, h) for f, h in holes]


def _shifted(context: list[int], answer: list[int]) -> Example:
    """Inputs context+answer[:-1]; each position predicts the next token, loss only on the answer."""
    ids = context + answer
    targets = [IGNORE] * (len(context) - 1) + answer
    return Example(ids[:-1], targets)


def pack(examples: list[Example], width: int) -> Iterator[tuple[list[int], list[int], list[int]]]:
    """Rows of at most ``width`` tokens: (ids, targets, segment of each position). An example
    longer than a row is cut to its last ``width`` tokens (the answer sits at the end)."""
    ids: list[int] = []
    targets: list[int] = []
    segments: list[int] = []
    for example in examples:
        e_ids, e_targets = example.ids[-width:], example.targets[-width:]
        if ids and len(ids) + len(e_ids) > width:
            yield ids, targets, segments
            ids, targets, segments = [], [], []
        segment = segments[-1] + 1 if segments else 0
        ids += e_ids
        targets += e_targets
        segments += [segment] * len(e_ids)
    if ids:
        yield ids, targets, segments
