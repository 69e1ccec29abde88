"""Keep secrets out of prompts and logs.

Two guards: files that hold credentials are never read (:func:`is_secret_file`), and
text that does enter a prompt is passed through :func:`redact`, which replaces values
shaped like keys and tokens with ``PLACEHOLDER``. Redaction is deterministic, so a
redacted piece is as cache-stable as the text it came from.
"""

from __future__ import annotations

import os
import re
from fnmatch import fnmatch

from ghostwright.errors import RequestError

PLACEHOLDER = "<redacted>"

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

# Whole tokens recognised by shape, whatever the name they are assigned to.
_TOKEN_PATTERNS = [
    re.compile(p)
    for p in (
        r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----[\s\S]*?"
        r"-----END[A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----",
        r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b",  # AWS access key id
        r"\bgh[pousr]_[A-Za-z0-9]{36,}\b",  # GitHub tokens
        r"\bgithub_pat_[A-Za-z0-9_]{22,}\b",
        r"\bglpat-[A-Za-z0-9_-]{20,}\b",  # GitLab
        r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b",  # Slack
        r"https://hooks\.slack\.com/services/[A-Za-z0-9/]+",
        r"\bsk-(?:proj-|ant-|live-)?[A-Za-z0-9_-]{20,}\b",  # OpenAI / Anthropic style
        r"\b[rsp]k_(?:live|test)_[0-9A-Za-z]{16,}\b",  # Stripe
        r"\bAIza[0-9A-Za-z_-]{35}\b",  # Google API key
        r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",  # JWT
        r"(?<=://)[^/\s:@]+:[^/\s@]+(?=@)",  # user:password@ in URLs
        r"(?i)(?<=\bbearer )[A-Za-z0-9._~+/=-]{16,}",  # Authorization: Bearer <token>
        r"(?i)(?<=\bbasic )[A-Za-z0-9+/]{16,}={0,2}",  # Authorization: Basic <base64>
        r"\bhf_[A-Za-z0-9]{30,}\b",  # Hugging Face
        r"\bnpm_[A-Za-z0-9]{36}\b",  # npm
        r"\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}\b",  # SendGrid
        r"(?i)(?<=AccountKey=)[A-Za-z0-9+/]{40,}={0,2}",  # Azure storage connection strings
        r"\bpypi-[A-Za-z0-9_-]{50,}\b",  # PyPI upload tokens
    )
]

# A name holding one of these words as a whole part: "GITHUB_TOKEN" yes, "tokenizer" no.
_WORDS = r"password|passwd|pwd|pass|secret|token|api[_-]?key|apikey|access[_-]?key|credentials?"
_NAME = rf"[\w.-]*(?<![A-Za-z])(?:{_WORDS}|private[_-]?key|auth[_-]?key)s?(?:[_.-][\w.-]*)?(?!\w)"
# name = "value" / name: 'value' / "name": "value" / name => "value" (quoted: any value)
_QUOTED = re.compile(
    rf"(?i)(\"?{_NAME}\"?\s*(?::=|=>|[:=])\s*[bru]{{0,2}})([\"'`])((?:(?!\2)[^\\\n]|\\.)+)\2"
)
# name = """value""" (triple-quoted, any lines)
_TRIPLE = re.compile(rf"(?i)({_NAME}\s*[:=]\s*[bru]{{0,2}})(\"\"\"|\'\'\')([\s\S]+?)\2")
# NAME=value in env and config files (unquoted: only values that look generated)
_BARE = re.compile(
    rf"(?im)^(\s*(?:export\s+)?{_NAME}\s*[:=]\s*)((?=[^\s'\"#]*\d)[A-Za-z0-9_\-+/=.]{{8,}})\s*$"
)


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


def redact(text: str) -> str:
    """``text`` with key-, token- and password-shaped values replaced by ``PLACEHOLDER``."""
    for pattern in _TOKEN_PATTERNS:
        text = pattern.sub(PLACEHOLDER, text)
    text = _TRIPLE.sub(lambda m: f"{m[1]}{m[2]}{_keep(m[3])}{m[2]}", text)
    text = _QUOTED.sub(lambda m: f"{m[1]}{m[2]}{_keep(m[3])}{m[2]}", text)
    return _BARE.sub(lambda m: f"{m[1]}{PLACEHOLDER}", text)


def _keep(value: str) -> str:
    """Leave values that cannot be secrets (empty markers, already redacted) readable."""
    if value == PLACEHOLDER or not value.strip():
        return value
    return PLACEHOLDER
