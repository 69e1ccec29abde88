"""``ghostwright engine serve``: the local engine behind an OpenAI-compatible HTTP API.

One engine (its prefix cache, priorities, tiers and per-session supersession) shared by many
editors: the windows of one user through a Unix-socket daemon, or a team through API keys.
"""
