"""The one seam between the server and whatever generates text.

Small on purpose: a local ONNX engine implements it today, and a remote backend (an
OpenAI-compatible server) can implement it later without the server noticing.

    engine = load_engine(bundle_dir)
    for chunk in engine.generate(GenerationRequest(prompt=Prompt.text("def f("), max_tokens=32)):
        print(chunk.text, end="")
    # the last chunk has done=True, finish and stats
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum, IntEnum
from typing import Protocol


class Priority(IntEnum):
    """Lower runs first. Inline completion is what the user is waiting on."""

    INLINE = 0
    INTERACTIVE = 1  # code actions, ask
    BACKGROUND = 2  # hover explanations, prefetch


class FinishReason(str, Enum):
    EOS = "eos"
    STOP = "stop"  # a stop string matched
    LENGTH = "length"  # max_tokens reached
    DEADLINE = "deadline"
    CANCELLED = "cancelled"
    SUPERSEDED = "superseded"  # a newer request for the same document replaced it
    ERROR = "error"


class CancelToken:
    """Thread-safe flag a caller sets to stop a request within one decode step."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.cancelled_at: float | None = None  # time.monotonic() of the first cancel()

    def cancel(self) -> None:
        if self.cancelled_at is None:
            self.cancelled_at = time.monotonic()
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


# A prompt is a list of segments: text (tokenized with special-token strings treated as
# plain text, so code that contains "<|im_end|>" cannot inject control tokens) or token ids.
Segment = str | int


@dataclass(frozen=True)
class Prompt:
    segments: tuple[Segment, ...]

    @staticmethod
    def text(text: str) -> Prompt:
        return Prompt((text,))

    @staticmethod
    def tokens(ids: list[int]) -> Prompt:
        return Prompt(tuple(ids))


@dataclass(frozen=True)
class Snippet:
    """Code from another file of the repository that the completion may need."""

    path: str  # relative to the workspace root
    text: str


@dataclass(frozen=True)
class InfillPrompt:
    """What a completion wants, not how to spell it: each model renders it in its own format
    (Qwen2.5-Coder's repository-level fill-in-the-middle, plain FIM, or prefix only with the
    snippets as comments; see :mod:`ghostwright.inference.prompt_format`). A remote backend maps
    it onto llama-server's ``/infill`` or an OpenAI ``/v1/completions`` prompt the same way.

    The server orders every piece so a keystroke changes the tail: snippets, then the prefix
    (whose end is the cursor), then the suffix."""

    prefix: str  # the file up to the cursor (what the completion continues)
    suffix: str = ""  # the file after the cursor (formats without FIM leave it out)
    path: str = ""  # the file's path in the workspace
    language: str = ""
    comment: str | None = None  # the language's line comment, for formats that give snippets as comments
    snippets: tuple[Snippet, ...] = ()
    repo: str = ""  # the workspace's name

    def files(self) -> tuple[Snippet, ...]:
        """The snippets merged one per file, in first-seen order (a blank line between pieces): a
        repository format names each file once, as the files of a repository are in training."""
        merged: dict[str, list[str]] = {}
        for snippet in self.snippets:
            merged.setdefault(snippet.path, []).append(snippet.text.rstrip("\n"))
        return tuple(Snippet(path, "\n\n".join(texts) + "\n") for path, texts in merged.items())

    def commented_context(self) -> str:
        """For a model without repository tokens: the path and the snippets as comments, so the
        prompt still reads like the file being written (``# Path: app/main.py``, then
        ``# Compare this snippet from pkg/util.py:`` and the snippet, commented)."""
        if self.comment is None:
            return ""
        header = f"{self.comment} Path: {self.path}\n" if self.path else ""
        return header + "".join(commented_snippet(s, self.comment) for s in self.snippets)


def starts_a_line(text: str, end: int | None = None) -> bool:
    """Whether ``text[:end]`` has only indentation after its last newline (a cursor that starts
    a line). The server and the prompt formats must agree on it: one decides the budget, the
    other the format."""
    end = len(text) if end is None else end
    return not text[text.rfind("\n", 0, end) + 1 : end].strip()


def ends_a_line(text: str, start: int = 0) -> bool:
    """Whether ``text[start:]`` has only whitespace before its first newline (a cursor at ``start``
    with nothing to its right on its line)."""
    end = text.find("\n", start)
    return not (text[start:] if end < 0 else text[start:end]).strip()


def at_line_edge(text: str, offset: int) -> bool:
    """Whether the cursor at ``offset`` has only whitespace to its left or to its right on its line:
    where a model that completes better left to right than by fill-in-the-middle is given the
    prefix only. The right side counts too: typing a line keeps the cursor at its end, and
    switching between the two renderings on every new line re-prefilled the whole file part of
    the prompt twice a line."""
    return starts_a_line(text, offset) or ends_a_line(text, offset)


def commented_snippet(snippet: Snippet, comment: str) -> str:
    body = "".join(f"{comment} {line}".rstrip() + "\n" for line in snippet.text.splitlines())
    return f"{comment} Compare this snippet from {snippet.path}:\n{body}"


@dataclass(frozen=True)
class ChatPrompt:
    """Chat messages, rendered by each model's own chat template; ``prefill`` starts the answer."""

    messages: tuple[tuple[str, str], ...]  # (role, content)
    prefill: str = ""
    add_generation_prompt: bool = True

    @staticmethod
    def of(messages: list[dict[str, str]], prefill: str = "") -> ChatPrompt:
        return ChatPrompt(tuple((m["role"], m["content"]) for m in messages), prefill)


AnyPrompt = Prompt | InfillPrompt | ChatPrompt


@dataclass(frozen=True)
class SamplingParams:
    temperature: float = 0.0  # 0 = greedy
    top_p: float = 1.0
    top_k: int = 0  # 0 = no limit
    seed: int | None = None


@dataclass
class GenerationRequest:
    prompt: AnyPrompt
    max_tokens: int = 128
    sampling: SamplingParams = field(default_factory=SamplingParams)
    stop: list[str] = field(default_factory=list)  # never part of the output
    deadline: float | None = None  # time.monotonic() by which to give up
    cancel: CancelToken = field(default_factory=CancelToken)
    priority: Priority = Priority.INLINE
    session_key: str | None = None  # e.g. a document URI: a newer request with the same key supersedes
    tier: str = "auto"  # auto | full | mini
    request_id: str | None = None  # for logs
    heal_last_token: bool = False  # re-choose the prompt's last token (it may be a cut-off word)
    # The first generated text (after a healed token is re-spelled) may contain none of these:
    # ("\n", "`") makes an answer resumed on an indented line write code on that line instead of
    # closing its code block.
    first_token_excludes: tuple[str, ...] = ()
    # Speculative decoding by prompt lookup, for greedy requests whose answer copies its prompt
    # (an edited function): drafts per step; None leaves it to the engine (remote ones ignore it).
    draft_tokens: int | None = None


@dataclass
class GenerationStats:
    prompt_tokens: int = 0
    reused_tokens: int = 0  # served from the cached prefix
    prefilled_tokens: int = 0
    generated_tokens: int = 0
    queue_s: float = 0.0
    prefill_s: float = 0.0
    decode_s: float = 0.0
    tier: str = ""
    route_reason: str = ""
    logprob_sum: float = 0.0  # sum of the model's log-probabilities of the generated tokens (ranking candidates)
    decoded_after_cancel: int = 0  # tokens decoded once the cancel token was set (the step in flight)

    @property
    def decode_tokens_per_s(self) -> float:
        return self.generated_tokens / self.decode_s if self.decode_s > 0 else 0.0


@dataclass
class Chunk:
    text: str
    done: bool = False
    finish: FinishReason | None = None
    stats: GenerationStats | None = None
    error: str | None = None


@dataclass(frozen=True)
class ModelInfo:
    name: str
    tiers: tuple[str, ...]  # e.g. ("full", "mini")
    device: str  # cpu | cuda
    context_length: int  # tokens one request may hold (prompt + output)
    fim: bool  # the full tier reads the suffix (fill-in-the-middle)
    formats: dict[str, str]  # tier -> how it renders an InfillPrompt: repo-fim | fim | code
    chat_template: bool  # chat prompts are understood
    eos_text: tuple[str, ...] = ()
    fim_at_line_start: bool = True  # the full tier reads the suffix when the cursor starts a line too


class Engine(Protocol):
    def generate(self, request: GenerationRequest) -> Iterator[Chunk]:
        """Yield text chunks as they decode; the last has ``done=True``."""
        ...

    def count_tokens(self, text: str) -> int: ...

    def chat_prompt(self, messages: list[dict[str, str]], add_generation_prompt: bool = True) -> ChatPrompt:
        """``[{"role": ..., "content": ...}]`` as a prompt each tier renders with its own template."""
        ...

    def info(self) -> ModelInfo: ...

    def stats(self) -> dict[str, object]: ...

    def close(self) -> None: ...


def generate_together(engine: Engine, requests: list[GenerationRequest]) -> list[Iterator[Chunk]]:
    """Streams for several requests at once: one batch where the engine decodes batches
    (``generate_batch``), else a stream per request, which a remote server batches itself when
    they are read concurrently."""
    batch = getattr(engine, "generate_batch", None)
    if batch is not None:
        return batch(requests)
    return [engine.generate(request) for request in requests]
