"""Typed settings, from initializationOptions and workspace/didChangeConfiguration.

Keys are camelCase on the wire (as editors write them) and snake_case here. A bad value
is reported back to the user and replaced by its default; it never stops the server.
The VS Code extension's package.json declares the same keys and defaults.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace
from typing import Any


@dataclass(frozen=True, kw_only=True)
class Settings:
    enabled: bool = True  # master switch for inline completions
    model: str = "default"  # a profile (default, smollm2, qwen2.5-coder-1.5b) or a folder under GHOSTWRIGHT_HOME/models
    tier: str = "auto"  # auto | full | mini
    device: str = "auto"  # auto | cpu | cuda
    backend_url: str = ""  # a remote OpenAI-compatible backend; empty = local (nothing leaves the machine)
    backend_api_key: str = ""  # sent as a bearer token to backendUrl; never logged
    backend_api_key_env: str = ""  # or: the environment variable that holds it
    backend_model: str = ""  # the served model's id; empty = the first the backend lists
    backend_fallback: bool = False  # when the backend is down, run on the local model
    shared_engine: bool = False  # share one engine daemon among this user's editor windows
    max_tokens: int = 96  # longest suggestion, in tokens
    debounce_ms: int = 60  # wait after a keystroke before asking the model
    prompt_tokens: int = 1024  # prompt budget for completions
    languages: tuple[str, ...] = ()  # languageIds to complete in; empty = all
    streaming: bool = False  # send ghostwright/partialCompletion notifications
    telemetry: bool = True  # record shown/accepted counts in the local stats file (never sent anywhere)
    deadline_ms: int = 2000  # give up on an inline completion after this long
    full_token_budget: int = 0  # tokens (prompt + output) the full tier may spend, then mini; 0 = no limit
    allow_unisolated_code: bool = False  # run model-written code with resource limits only where isolation is refused


_CHOICES = {"tier": ("auto", "full", "mini"), "device": ("auto", "cpu", "cuda")}
_RANGES = {"max_tokens": (1, 1024), "debounce_ms": (0, 2000), "prompt_tokens": (64, 8192),
           "deadline_ms": (100, 60000), "full_token_budget": (0, 2**31 - 1)}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _valid(name: str, default: Any, value: Any) -> Any:
    """``value`` converted to the type of ``default``, or raise ValueError."""
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ValueError("expected true or false")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("expected an integer")
        low, high = _RANGES.get(name, (None, None))
        if low is not None and not low <= value <= high:
            raise ValueError(f"expected {low}..{high}")
        return value
    if isinstance(default, tuple):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError("expected a list of strings")
        return tuple(value)
    if not isinstance(value, str):
        raise ValueError("expected a string")
    if name in _CHOICES and value not in _CHOICES[name]:
        raise ValueError(f"expected one of {', '.join(_CHOICES[name])}")
    return value


def parse_settings(raw: Any, base: Settings | None = None) -> tuple[Settings, list[str]]:
    """(settings, warnings). Accepts the options object itself or ``{"ghostwright": {...}}``."""
    base = base or Settings()
    if raw is None:
        return base, []
    if isinstance(raw, dict) and isinstance(raw.get("ghostwright"), dict):
        raw = raw["ghostwright"]
    if not isinstance(raw, dict):
        return base, [f"settings must be an object, got {type(raw).__name__}; using defaults"]
    known = {f.name: f for f in fields(Settings)}
    defaults = Settings()
    changes: dict[str, Any] = {}
    warnings = []
    for key, value in raw.items():
        name = _snake(key)
        if name not in known:
            warnings.append(f"unknown setting {key!r} ignored")
            continue
        default = getattr(defaults, name)
        try:
            changes[name] = _valid(name, default, value)
        except ValueError as exc:
            warnings.append(f"setting {key!r} = {value!r}: {exc}; using {default!r}")
            changes[name] = default
    return replace(base, **changes), warnings


def defaults_as_camel() -> dict[str, Any]:
    """Defaults keyed as the wire and package.json spell them (tests compare the two)."""
    out = {}
    for f in fields(Settings):
        head, *rest = f.name.split("_")
        value = getattr(Settings(), f.name)
        out[head + "".join(w.title() for w in rest)] = list(value) if isinstance(value, tuple) else value
    return out


__all__ = ["Settings", "defaults_as_camel", "field", "parse_settings"]
