"""What ``--model`` (or the editor's ``model`` setting) names: a profile, one model folder, or tiers.

A profile (``default``, ``smollm2``, ``qwen2.5-coder-1.5b``; see the catalogue) gives each tier its
own bundle; a model folder under ``$GHOSTWRIGHT_HOME/models`` (a shipped model's short name, or
a name given to ``ghostwright model export`` or ``ghostwright tune``) gives its variants as tiers;
``full=MODEL[/VARIANT],mini=MODEL[/VARIANT]`` composes a profile from any two; ``--model-dir`` is a
folder anywhere. Resolved here, in the wiring, so neither the server nor the engine needs to
know the catalogue.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from ghostwright.errors import EngineError
from ghostwright.export.catalogue import ALIASES, DEFAULT_PROFILE, PROFILES
from ghostwright.home import models_dir

log = logging.getLogger(__name__)

BundlePaths = Path | dict[str, Path]  # a model (or bundle) folder, or tier -> bundle folder


def resolve(model: str | None = None, model_dir: str | Path | None = None) -> BundlePaths:
    """The bundles to load; a clear error naming the command that prepares them when absent."""
    if model_dir:
        path = Path(model_dir).expanduser()
        if not path.exists():
            raise EngineError(f"{path} does not exist: `ghostwright model pull` fetches the shipped models, "
                              "`ghostwright model export PATH --name NAME` adds your own")
        return path
    name = model or DEFAULT_PROFILE
    if "=" in name:
        return _composed(name)
    if name in PROFILES:
        tiers = {tier: models_dir() / c.model / c.variant for tier, c in PROFILES[name].tiers().items()}
        missing = [str(p) for p in tiers.values() if not p.is_dir()]
        if missing:
            command = "ghostwright model pull" + ("" if name == DEFAULT_PROFILE else f" {name}")
            raise EngineError(f"profile {name!r} is not ready ({', '.join(missing)} missing): run `{command}`")
        return tiers
    folder = models_dir() / ALIASES.get(name, name)
    if not folder.is_dir():
        raise EngineError(f"no profile or model called {name!r} under {models_dir()}: `ghostwright model pull` "
                          "fetches the shipped models, `ghostwright model export PATH --name NAME` adds your own")
    return folder


TIER_VARIANTS = {"full": ("w8a8", "int8", "fp32", "fp16", "int4"), "mini": ("int4", "int8", "w8a8", "fp32", "fp16")}


def _composed(spec: str) -> dict[str, Path]:
    """A profile spelled out: ``full=MODEL[/VARIANT],mini=MODEL[/VARIANT]`` (a tuned model as the
    full tier, say, with SmolLM2 as the mini one). Without a variant a tier takes the first its
    kind prefers that the model has: w8a8, else int8, for full; int4 for mini."""
    tiers: dict[str, Path] = {}
    for part in spec.split(","):
        tier, _, model = (p.strip() for p in part.partition("="))
        name, _, variant = model.partition("/")
        if tier not in TIER_VARIANTS or not name or tier in tiers:
            raise EngineError(f"{spec!r}: expected full=MODEL[/VARIANT] and optionally ,mini=MODEL[/VARIANT]")
        folder = models_dir() / ALIASES.get(name, name)
        choices = (variant,) if variant else TIER_VARIANTS[tier]
        found = next((folder / v for v in choices if (folder / v / "manifest.json").is_file()), None)
        if found is None:
            raise EngineError(f"{tier} tier: no {'/'.join(choices)} bundle of {name!r} under {models_dir()}: "
                              "`ghostwright model pull` fetches the shipped models, `ghostwright model export PATH "
                              "--name NAME` adds your own")
        tiers[tier] = found
    if "full" not in tiers:
        raise EngineError(f"{spec!r}: a profile needs a full tier (full=MODEL)")
    return tiers


def describe(source: BundlePaths) -> str:
    if isinstance(source, dict):
        return ", ".join(f"{tier}: {path.parent.name}/{path.name}" for tier, path in source.items())
    return str(source)


@dataclass(frozen=True)
class Backend:
    """A remote OpenAI-compatible backend, as the editor's settings name it (url empty: none)."""

    url: str = ""
    api_key: str = ""
    api_key_env: str = ""
    model: str = ""
    fallback: bool = False  # run on the local model while it is down


def build_engine(model: str | None, model_dir: str | None, device: str, backend: Backend = Backend(),
                 shared: bool = False, full_token_budget: int | None = None):  # -> Engine
    """The engine an editor session runs on: a remote backend, this user's shared engine daemon,
    or the local model in this process. Failures are :class:`EngineError` with the fix in them.
    ``full_token_budget`` (the Codex-Mini rule: past it, the mini tier) holds for a local model;
    a shared daemon or a remote backend keeps its own accounts."""
    from ghostwright.inference import load_engine

    def local():
        source = resolve(model, model_dir)
        log.info("loading %s", describe(source))
        return load_engine(source, device=device, full_token_budget=full_token_budget)

    from ghostwright.inference.remote.failover import FailoverEngine

    if backend.url:
        from ghostwright.inference.remote import RemoteConfig, connect

        config = RemoteConfig.from_settings(backend.url, backend.api_key, backend.api_key_env, backend.model)
        engine = FailoverEngine(lambda: connect(config), local if backend.fallback else None)
        if engine.status != "connected" and not backend.fallback:
            raise EngineError(f"backendUrl: {engine.last_error}")
        return engine
    if shared:
        from ghostwright.shared_engine import connect_shared

        name = model or DEFAULT_PROFILE
        engine = FailoverEngine(lambda: connect_shared(name, str(model_dir) if model_dir else None, device))
        if engine.status != "connected":
            raise EngineError(f"the shared engine: {engine.last_error}")
        return engine
    return local()
