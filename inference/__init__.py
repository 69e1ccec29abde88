"""Model bundle -> fast, cancellable, streaming text generation. Knows nothing of LSP.

The server uses only what this package exports: :func:`load_engine` and the types in
:mod:`ghostwright.inference.api`.
"""

from ghostwright.inference.api import (
    CancelToken,
    Chunk,
    Engine,
    FinishReason,
    GenerationRequest,
    GenerationStats,
    ModelInfo,
    Priority,
    Prompt,
    SamplingParams,
)
from ghostwright.inference.loader import load_engine

__all__ = [
    "CancelToken",
    "Chunk",
    "Engine",
    "FinishReason",
    "GenerationRequest",
    "GenerationStats",
    "ModelInfo",
    "Priority",
    "Prompt",
    "SamplingParams",
    "load_engine",
]
