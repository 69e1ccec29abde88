"""Keep secrets out of prompts and logs: the one choke point.

Two guards: files that hold credentials are never read (:func:`is_secret_file`), and
text that does enter a prompt is passed through :func:`redact`, which replaces secret
values with ``PLACEHOLDER``. Detection is detect-secrets' (:mod:`.secret_scan`: its vendor
plugins, entropy checks and false-positive filters) plus our own patterns for what it lacks
(:mod:`.secret_patterns`). Redaction is deterministic, so a redacted piece is as
cache-stable as the text it came from.
"""

from __future__ import annotations

import functools
import os
from fnmatch import fnmatch

from ghostwright.errors import RequestError
from ghostwright.server.context.secret_patterns import PLACEHOLDER, redact_patterns
from ghostwright.server.context.secret_scan import redact_lines

__all__ = ["PLACEHOLDER", "ensure_not_secret", "is_secret_file", "redact"]

# Lower-cased file names and globs that hold credentials (".pub" keys are public: allowed).
_CONFIG_EXTENSIONS = ("json", "yaml", "yml", "toml", "ini", "txt", "csv", "xml", "conf", "cfg")
_SECRET_NAMES = (
    ".env", ".env.*", "*.env", ".envrc", "*.pem", "*.key", "*.p12", "*.pfx", "*.jks",
    "*.keystore", "*.kdbx", "*.ovpn", "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519",
    "*_rsa", "*_ed25519", "credentials", ".credentials", "*.credentials", ".netrc",
    "_netrc", ".pgpass", ".npmrc", ".pypirc", ".git-credentials", ".htpasswd", "*.secret",
    "*.secrets", "service-account*.json", "*.tfvars", "*.tfstate", "kubeconfig", "*.kubeconfig", "*.ppk",
    ".s3cfg", ".boto", ".dockercfg",
    # credentials.json, secrets.yaml... but not credentials.py or secrets.py: those are code.
    *(f"{stem}.{ext}" for stem in ("credentials", "secrets") for ext in _CONFIG_EXTENSIONS),
)
_SECRET_DIRS = {".ssh", ".aws", ".gnupg", ".docker"}


def is_secret_file(path: str | os.PathLike[str]) -> bool:
    """True for files that hold credentials: they are never indexed, read or prompted."""
    parts = os.path.normpath(os.fspath(path)).replace("\\", "/").lower().split("/")
    name = parts[-1]
    if any(part in _SECRET_DIRS for part in parts[:-1]):
        return not name.endswith(".pub")
    return any(fnmatch(name, pattern) for pattern in _SECRET_NAMES)


def ensure_not_secret(path: str | None) -> None:
    """Refuse to build a prompt from a secret file (the caller should not have asked)."""
    if path and is_secret_file(path):
        name = os.path.basename(path)
        raise RequestError(f"{name} may hold secrets: completion is disabled there")


@functools.lru_cache(maxsize=256)
def redact(text: str) -> str:
    """``text`` with secret values replaced by ``PLACEHOLDER``: our patterns first (they see
    across lines), then detect-secrets on each line that is left. Remembered: a prompt build
    redacts each context piece as it is packed and again as it is shown, and the next keystroke's
    build has the same pieces (on the cross-file bench's holes redaction was over half of a build's
    52 ms; remembered, a warm build takes 16)."""
    return redact_lines(redact_patterns(text))
