"""Chat prompts as segments, so message text can never forge a control token.

ChatML (``<|im_start|>role\\n...<|im_end|>``) is what the default model and the Qwen
family use; other templates fall back to a plain "role: text" transcript.
"""

from __future__ import annotations

from ghostwright.inference.api import Prompt, Segment

SMOLLM_DEFAULT_SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"


def chat_prompt(template: str | None, start_id: int | None, end_id: int | None,
                messages: list[dict[str, str]], add_generation_prompt: bool = True) -> Prompt:
    segments: list[Segment] = []
    chatml = bool(template and "<|im_start|>" in template and start_id is not None and end_id is not None)
    if chatml:
        if messages and messages[0]["role"] != "system" and "SmolLM" in (template or ""):
            messages = [{"role": "system", "content": SMOLLM_DEFAULT_SYSTEM}, *messages]
        for message in messages:
            segments += [start_id, f"{message['role']}\n{message['content']}", end_id, "\n"]  # type: ignore[list-item]
        if add_generation_prompt:
            segments += [start_id, "assistant\n"]  # type: ignore[list-item]
        return Prompt(tuple(segments))
    text = "".join(f"{m['role']}: {m['content']}\n" for m in messages)
    return Prompt.text(text + ("assistant: " if add_generation_prompt else ""))
