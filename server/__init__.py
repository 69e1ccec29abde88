"""The LSP server. The root holds plumbing only (app, settings, engine holder, errors, progress,
telemetry); ``features/`` has one thin module per LSP method, and each capability has its own
folder: ``completion/``, ``context/`` (the shared document model), ``hover/``, ``ask/``,
``actions/``, ``verify/``. ``server/README.md`` is the map."""
