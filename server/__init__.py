"""The LSP server: handlers in ``features/``, the context engine in ``context/``."""
