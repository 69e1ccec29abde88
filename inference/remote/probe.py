"""What kind of server a ``backendUrl`` points at, which model it serves, and how to prompt it.

Health is ``GET /health`` where there is one (llama-server, vLLM, SGLang, TGI, ours), else
``GET /v1/models`` (llama-cpp-python has no ``/health``). The kind comes from the models
list's ``owned_by``, and decides the extras a request may carry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from ghostwright.errors import BundleError, EngineError
from ghostwright.home import models_dir
from ghostwright.inference.manifest import read_manifest
from ghostwright.inference.remote.spelling import Renderer, family_for
from ghostwright.inference.tokenization import TextTokenizer

_OWNERS = {"llamacpp": "llama.cpp", "me": "llama-cpp-python", "vllm": "vllm", "sglang": "sglang",
           "tgi": "tgi", "ghostwright": "ghostwright"}
# Servers known to take ``prompt`` as token ids (llama-cpp-python and TGI take text only).
TAKES_IDS = ("vllm", "sglang", "llama.cpp")


@dataclass(frozen=True)
class Backend:
    kind: str  # ghostwright | llama.cpp | llama-cpp-python | vllm | sglang | tgi | openai
    model: str  # the id requests name
    dialect: str  # ghostwright (structured prompts) | ids | text
    tiers: tuple[str, ...] = ("remote",)
    context_length: int = 4096
    slots: int = 1  # llama-server's parallel slots
    prompt_kind: str = ""  # the engine's own rendering, for a ghostwright backend


async def _get(client: httpx.AsyncClient, path: str) -> httpx.Response:
    try:
        return await client.get(path)
    except httpx.TimeoutException as exc:
        raise EngineError(f"the backend at {client.base_url} did not answer {path} in time") from exc
    except httpx.HTTPError as exc:
        raise EngineError(f"the backend at {client.base_url} is not reachable ({type(exc).__name__}: {exc}); "
                          "is it running? (`ghostwright engine serve`, `vllm serve`, `llama-server`)") from exc


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


async def probe(client: httpx.AsyncClient, config: Any, local: Renderer | None) -> tuple[Backend, Renderer]:
    health = await _get(client, "/health")
    if health.status_code == 401:
        raise EngineError("the backend refused the API key (401): check backendApiKey / backendApiKeyEnv")
    if health.status_code == 503:
        raise EngineError(f"the backend at {client.base_url} is still loading its model (503); try again shortly")
    info = _json(health) if health.status_code == 200 else None
    models = await _get(client, "/v1/models")
    if models.status_code == 401:
        raise EngineError("the backend refused the API key (401): check backendApiKey / backendApiKeyEnv")
    if models.status_code != 200:
        raise EngineError(f"the backend at {client.base_url} answered {models.status_code} to /v1/models: "
                          "is it an OpenAI-compatible server?")
    listed = (_json(models) or {}).get("data") or []
    ids = [m.get("id") for m in listed if isinstance(m, dict) and isinstance(m.get("id"), str)]
    if not ids:
        raise EngineError(f"the backend at {client.base_url} serves no models")
    model = config.model or ids[0]
    if model not in ids:
        raise EngineError(f"the backend does not serve {model!r}; it serves {', '.join(ids)}")
    entry = next(m for m in listed if m.get("id") == model)
    kind = _OWNERS.get(str(entry.get("owned_by", "")).lower(), "openai")
    if isinstance(info, dict) and info.get("engine") == "ghostwright":
        kind = "ghostwright"
    if kind == "ghostwright":
        tok = await _get(client, "/v1/ghostwright/tokenizer")
        renderer = Renderer()
        if tok.status_code == 200:
            spec = _json(tok) or {}
            renderer = Renderer(tokenizer=TextTokenizer(None, int(spec["vocab_size"]), None, False,
                                                        json_text=spec["tokenizer"]))
        return Backend(kind, model, "ghostwright", tuple(info.get("tiers") or ("full",)),
                       int(info.get("context_length") or 2048), prompt_kind=str(info.get("prompt_format") or "")), \
            renderer
    context = int(entry.get("max_model_len") or (entry.get("meta") or {}).get("n_ctx_train") or 4096)
    renderer = local if local is not None and local.sends_ids else local_renderer_for(model)
    if renderer is None:
        renderer = Renderer(family=family_for(model))
    slots = 1
    if kind == "llama.cpp":
        props = await _get(client, "/props")
        slots = int((_json(props) or {}).get("total_slots") or 1) if props.status_code == 200 else 1
    dialect = "ids" if renderer.sends_ids and kind in TAKES_IDS else "text"
    return Backend(kind, model, dialect, context_length=context, slots=slots), renderer


def _normal(text: str) -> str:
    return text.lower().replace("_", "-").replace(" ", "-")


def local_renderer_for(model_id: str) -> Renderer | None:
    """The exported bundle of the model a server serves, when the user has it here: its
    tokenizer counts tokens exactly and its format renders the prompt as ids."""
    root = models_dir()
    if not root.is_dir():
        return None
    for folder in sorted(root.iterdir(), key=lambda p: -len(p.name)):
        if folder.is_dir() and _normal(folder.name) in _normal(model_id):
            for bundle in sorted(folder.iterdir()):
                try:
                    manifest = read_manifest(bundle)
                    tokenizer = TextTokenizer(manifest.tokenizer_path, manifest.config.vocab_size,
                                              manifest.special_tokens.get("bos"), manifest.add_bos)
                except (BundleError, OSError, NotADirectoryError):
                    continue
                return Renderer(manifest=manifest, tokenizer=tokenizer)
    return None
