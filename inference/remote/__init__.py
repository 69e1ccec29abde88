"""Remote backends behind the same :class:`~ghostwright.inference.api.Engine` seam.

An OpenAI-compatible server (vLLM, SGLang, llama.cpp's llama-server, TGI, or another
``ghostwright engine serve``) answers the same requests the local engine does. The server
side of LSP never learns which one it talks to.
"""

from ghostwright.inference.remote.openai_engine import RemoteConfig, RemoteEngine, connect

__all__ = ["RemoteConfig", "RemoteEngine", "connect"]
