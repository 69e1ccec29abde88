"""How a prompt reaches a plain OpenAI-compatible server: token ids, or text.

With the model's own tokenizer and manifest here (the user pulled the same model, or the
backend is another Ghostwright engine), a prompt is rendered exactly as the local engine
renders it and sent as token ids: OpenAI's ``prompt`` accepts a list of ints, and vLLM,
SGLang, llama-server and llama-cpp-python all take one. Control tokens then stay ids, so a
file holding ``<|fim_middle|>`` cannot forge one. Without a local tokenizer the prompt goes as
text in the model family's own spelling (the servers parse special-token text); the suffix is
never sent as OpenAI's ``suffix`` (vLLM rejects it, llama-cpp-python maps it to wrong ids).
"""

from __future__ import annotations

from dataclasses import dataclass

from ghostwright.inference.api import AnyPrompt, ChatPrompt, InfillPrompt, Prompt
from ghostwright.inference.chat import chat_prompt as chatml_prompt
from ghostwright.inference.manifest import BundleManifest
from ghostwright.inference.prompt_format import CODE, REPO_FIM, PromptFormat, format_for, render_chat, render_infill
from ghostwright.inference.tokenization import TextTokenizer


@dataclass(frozen=True)
class Family:
    """A model family's control-token spelling, for servers whose tokenizer we do not have."""

    name: str
    kind: str  # repo-fim | fim | code
    tokens: tuple[str, ...] = ()  # fim prefix, suffix, middle[, repo name, file separator]
    stops: tuple[str, ...] = ()  # texts that end a fill-in-the-middle answer
    chatml: bool = False  # its chat template is ChatML


FAMILIES = (
    Family("qwen2.5-coder", REPO_FIM,
           ("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|repo_name|>", "<|file_sep|>"),
           ("<|endoftext|>", "<|file_sep|>", "<|fim_pad|>", "<|fim_prefix|>", "<|im_end|>"), chatml=True),
    Family("starcoder2", REPO_FIM, ("<fim_prefix>", "<fim_suffix>", "<fim_middle>", "<repo_name>", "<file_sep>"),
           ("<|endoftext|>", "<file_sep>", "<fim_prefix>")),
    Family("plain", CODE),
)


def family_for(model_id: str) -> Family:
    """Guess from a served model's id (``Qwen/Qwen2.5-Coder-7B-Instruct``, ``qwen2.5-coder-0.5b…gguf``)."""
    lowered = model_id.lower().replace("_", "-")
    if "qwen2.5-coder" in lowered or "qwen3-coder" in lowered:
        return FAMILIES[0]
    if "starcoder2" in lowered:
        return FAMILIES[1]
    return FAMILIES[-1]


class Renderer:
    """Prompts as a remote server should get them, and token counts for the server's budgets."""

    def __init__(self, *, manifest: BundleManifest | None = None, tokenizer: TextTokenizer | None = None,
                 family: Family | None = None) -> None:
        self.manifest, self.tokenizer = manifest, tokenizer
        self.family = family or FAMILIES[-1]
        if manifest is not None:
            self.format = format_for(manifest)
        elif self.family.kind == CODE:
            self.format = PromptFormat(CODE)
        else:  # placeholder ids 0..4 index the family's spellings; only text leaves this module
            fim = (0, 1, 2)
            self.format = PromptFormat(self.family.kind, fim, (3, 4) if len(self.family.tokens) == 5 else None)

    @property
    def sends_ids(self) -> bool:
        return self.manifest is not None and self.tokenizer is not None

    @property
    def kind(self) -> str:
        return self.format.kind

    def count_tokens(self, text: str) -> int:
        if self.tokenizer is not None:
            return len(self.tokenizer.encode_text(text))
        return max(1, (len(text) * 10 + 31) // 32) if text else 0  # ~3.2 characters a token, for budgets only

    def stops(self, prompt: AnyPrompt) -> list[str]:
        """Text that ends an answer (servers stop on their own EOS; FIM answers may run on into a file)."""
        if not isinstance(prompt, InfillPrompt) or self.format.kind == CODE:
            return []
        if self.tokenizer is not None:
            return [self.tokenizer.spelling(i) for i in self.format.fim_stops]
        return list(self.family.stops)

    def render(self, prompt: AnyPrompt, as_ids: bool = True) -> list[int] | str | None:
        """Token ids (when the server takes them) or text for ``/v1/completions``; None for a
        chat prompt the server must template itself (no local template and no known family)."""
        ids = as_ids and self.sends_ids
        if isinstance(prompt, ChatPrompt):
            if self.manifest is not None and self.tokenizer is not None:
                rendered = render_chat(self.manifest, self.tokenizer.special_ids(), prompt)
                return self.tokenizer.encode(rendered) if ids else self._text(rendered, ())
            if not self.family.chatml:
                return None
            messages = [{"role": r, "content": c} for r, c in prompt.messages]
            # ids 0 and 1 index the two spellings below
            rendered = chatml_prompt("<|im_start|>", 0, 1, messages, prompt.add_generation_prompt)
            return self._text(Prompt((*rendered.segments, prompt.prefill)), ("<|im_start|>", "<|im_end|>"))
        rendered = render_infill(self.format, prompt) if isinstance(prompt, InfillPrompt) else prompt
        if ids:
            return self.tokenizer.encode(rendered)
        return self._text(rendered, self.family.tokens)

    def _text(self, prompt: Prompt, spellings: tuple[str, ...]) -> str:
        out = []
        for segment in prompt.segments:
            if isinstance(segment, str):
                out.append(segment)
            elif self.tokenizer is not None:
                out.append(self.tokenizer.spelling(segment))
            elif 0 <= segment < len(spellings):
                out.append(spellings[segment])
            else:
                raise ValueError(f"token id {segment} cannot be sent as text without the model's tokenizer")
        return "".join(out)
