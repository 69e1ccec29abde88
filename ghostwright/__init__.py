"""Ghostwright: a private coding assistant that runs an ONNX decoder behind an LSP server.

The root package holds only what every part shares: the error hierarchy, where files
live, and the command line that wires export, inference and server together.
"""

__version__ = "0.1.0"
