"""How each model spells a prompt: its fill-in-the-middle format and its chat template.

The server describes what it wants (:class:`InfillPrompt`, :class:`ChatPrompt`); the tier that
runs the request renders it here, from what its manifest says the model has:

- ``repo-fim`` (FIM and repository tokens, Qwen2.5-Coder)::

      <|repo_name|>{repo}\\n<|file_sep|>{path}\\n{snippet}\\n ... <|file_sep|>{path}\\n
      <|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>

- ``fim`` (FIM tokens only): the snippets as comments at the top of the prefix, then
  ``<|fim_prefix|>…<|fim_suffix|>…<|fim_middle|>``;
- ``code`` (no FIM, SmolLM2): the file as the model would read it, snippets as comments, up to
  the cursor; the suffix is left out.

A model whose infill is measured to trail its own left-to-right completion at the start of a
line (Qwen2.5-Coder-0.5B-Instruct: 9 of 60 cross-file holes by FIM, 20 left to right) gets the
same pieces without FIM tokens there: the repository files, then this file up to the cursor.
The server still cuts what the suffix already holds from the answer.

Control tokens enter only as ids; text (code, messages) is encoded with special-token strings
treated as plain text, so a file containing ``<|fim_middle|>`` cannot forge one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ghostwright.errors import RequestError
from ghostwright.export.catalogue import infills_at_line_start
from ghostwright.export.contract import Manifest
from ghostwright.inference.api import ChatPrompt, InfillPrompt, Prompt, Segment, ends_a_line, starts_a_line
from ghostwright.inference.chat import chat_prompt as chatml_prompt
from ghostwright.inference.manifest import BundleManifest

REPO_FIM, FIM, CODE = "repo-fim", "fim", "code"


@dataclass(frozen=True)
class PromptFormat:
    kind: str  # repo-fim | fim | code
    fim: tuple[int, int, int] | None = None  # prefix, suffix, middle ids
    repo: tuple[int, int] | None = None  # repo_name, file_sep ids
    fim_stops: tuple[int, ...] = ()  # tokens that end a fill-in-the-middle answer besides EOS
    infill_at_line_start: bool = True  # else a cursor that starts a line gets the prefix only


def format_for(manifest: BundleManifest) -> PromptFormat:
    special = manifest.special_tokens
    fim, repo = special.get("fim"), special.get("repo")
    if not fim:
        return PromptFormat(CODE)
    ids = (int(fim["prefix"]), int(fim["suffix"]), int(fim["middle"]))
    stops = tuple(i for i in (*ids, fim.get("pad")) if i is not None)
    source = manifest.raw.get(Manifest.SOURCE) or {}
    line_start = infills_at_line_start(source.get("base_sha256") or source.get("sha256"))  # a tuned model: its base
    if repo:
        repo_ids = (int(repo["repo_name"]), int(repo["file_sep"]))
        return PromptFormat(REPO_FIM, ids, repo_ids, (*stops, *repo_ids), line_start)
    return PromptFormat(FIM, ids, None, stops, line_start)



def render_infill(fmt: PromptFormat, prompt: InfillPrompt) -> Prompt:
    """``prompt`` in ``fmt``: pieces in an order where a keystroke at the cursor changes the tail."""
    infill = fmt.infill_at_line_start or not (starts_a_line(prompt.prefix) or ends_a_line(prompt.suffix))
    if fmt.kind == REPO_FIM and fmt.fim and fmt.repo:
        pre, suf, mid = fmt.fim
        name, sep = fmt.repo
        segments: list[Segment] = [name, f"{prompt.repo or 'workspace'}\n"]
        for snippet in prompt.files():
            segments += [sep, f"{snippet.path}\n{snippet.text.rstrip()}\n"]
        segments += [sep, f"{prompt.path or 'untitled'}\n"]
        segments += [pre, prompt.prefix, suf, prompt.suffix, mid] if infill else [prompt.prefix]
        return Prompt(tuple(s for s in segments if s != ""))
    context = prompt.commented_context()
    if fmt.kind == FIM and fmt.fim and infill:
        pre, suf, mid = fmt.fim
        return Prompt(tuple(s for s in (pre, context + prompt.prefix, suf, prompt.suffix, mid) if s != ""))
    return Prompt((context + prompt.prefix,))


# -- chat ---------------------------------------------------------------------------------
_PLACEHOLDER = "\x00gw{}\x00"


def render_chat(manifest: BundleManifest, special_ids: dict[str, int], prompt: ChatPrompt) -> Prompt:
    """``prompt`` through the model's own chat template (a sandboxed Jinja renderer, as Hugging
    Face's ``apply_chat_template`` does), or ChatML / a plain transcript when it has none.

    Message texts go into the template as placeholders and come back as text segments, so only
    the template itself can produce control tokens."""
    template = manifest.chat_template
    messages = [{"role": role, "content": content} for role, content in prompt.messages]
    if not template:
        rendered = chatml_prompt(None, None, None, messages, prompt.add_generation_prompt)
        return Prompt((*rendered.segments, prompt.prefill) if prompt.prefill else rendered.segments)
    contents = [m["content"] for m in messages]
    masked = [{"role": m["role"], "content": _PLACEHOLDER.format(i)} for i, m in enumerate(messages)]
    from jinja2 import TemplateError

    try:
        text = _jinja(template).render(messages=masked, add_generation_prompt=prompt.add_generation_prompt,
                                       bos_token="", eos_token="", tools=None, documents=None)
    except TemplateError as exc:  # SecurityError included: the sandbox refused what the template tried
        raise RequestError(f"the model's chat template failed: {exc}") from exc
    segments: list[Segment] = []
    pattern = re.compile("|".join([r"\x00gw(\d+)\x00", *(re.escape(t) for t in sorted(special_ids, key=len,
                                                                                      reverse=True))]))
    at = 0
    for match in pattern.finditer(text):
        if match.start() > at:
            segments.append(text[at : match.start()])
        segments.append(contents[int(match.group(1))] if match.group(1) is not None else special_ids[match.group(0)])
        at = match.end()
    if at < len(text):
        segments.append(text[at:])
    if prompt.prefill:
        segments.append(prompt.prefill)
    return Prompt(tuple(s for s in segments if s != ""))


_templates: dict[str, Any] = {}


def _jinja(source: str) -> Any:
    """A compiled template in an immutable sandbox: a model file's template cannot reach Python."""
    if source not in _templates:
        from jinja2 import TemplateError
        from jinja2.ext import loopcontrols
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        def raise_exception(message: str) -> None:
            raise RequestError(f"the model's chat template refused the messages: {message}")

        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
        env.globals["raise_exception"] = raise_exception
        env.filters["tojson"] = _tojson
        try:
            _templates[source] = env.from_string(source)
        except TemplateError as exc:
            raise RequestError(f"the model's chat template does not compile: {exc}") from exc
    return _templates[source]


def _tojson(value: Any, indent: int | None = None) -> str:
    import json

    return json.dumps(value, indent=indent, ensure_ascii=False)
