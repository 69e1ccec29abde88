"""Model bundle -> fast, cancellable, streaming text generation. Knows nothing of LSP.

The server uses only what this package exports: :func:`load_engine` and the types in
:mod:`ghostwright.inference.api`.
"""

from ghostwright.inference.api import (
    CancelToken,
    ChatPrompt,
    Chunk,
    Engine,
    FinishReason,
    GenerationRequest,
    GenerationStats,
    InfillPrompt,
    ModelInfo,
    Priority,
    Prompt,
    SamplingParams,
    Snippet,
)
from ghostwright.inference.loader import load_engine

__all__ = [
    "CancelToken",
    "ChatPrompt",
    "Chunk",
    "Engine",
    "FinishReason",
    "GenerationRequest",
    "GenerationStats",
    "InfillPrompt",
    "ModelInfo",
    "Priority",
    "Prompt",
    "SamplingParams",
    "Snippet",
    "load_engine",
]
