"""detect-secrets, one line at a time, as a redaction pass.

detect-secrets is a well-kept catalogue of vendor token formats, keyword heuristics,
entropy checks and false-positive filters (UUIDs, templated values, indirect references,
sequences). :func:`redact_lines` asks its ``scan_line`` about each line and replaces the
exact values it reports. Prompts are rebuilt on every keystroke, so the scan stays cheap:
only lines that could hold a secret are scanned (:data:`_CANDIDATE`), and each line's answer
is cached by its text, which also keeps redaction deterministic.

``scan_line`` searches eagerly (unquoted words too) and reports entropy findings below the
limit, for people to read; a prompt wants only real findings, so :func:`_wanted` applies the
plugin's limit, and drops findings that are placeholders or hashes named as such.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

from detect_secrets.core.potential_secret import PotentialSecret
from detect_secrets.core.scan import scan_line
from detect_secrets.plugins.high_entropy_strings import HighEntropyStringsPlugin
from detect_secrets.settings import get_plugins, get_settings

from ghostwright.server.context.secret_patterns import PLACEHOLDER, is_placeholder

# Every plugin detect-secrets ships, but public IP addresses: those are not credentials.
_PLUGINS = (
    "ArtifactoryDetector", "AWSKeyDetector", "AzureStorageKeyDetector", "BasicAuthDetector",
    "CloudantDetector", "DiscordBotTokenDetector", "GitHubTokenDetector", "GitLabTokenDetector",
    "Base64HighEntropyString", "HexHighEntropyString", "IbmCloudIamDetector", "IbmCosHmacDetector",
    "JwtTokenDetector", "KeywordDetector", "MailchimpDetector", "NpmDetector", "OpenAIDetector",
    "PrivateKeyDetector", "PypiTokenDetector", "SendGridDetector", "SlackDetector", "SoftlayerDetector",
    "SquareOAuthDetector", "StripeDetector", "TelegramBotTokenDetector", "TwilioKeyDetector",
)
# Findings from these are about names and shapes, not vendor formats: placeholders are kept.
_HEURISTIC = {"Secret Keyword", "Basic Auth Credentials", "Base64 High Entropy String", "Hex High Entropy String"}
# A line worth scanning: a secret-ish word, a URL with a user, or a long mixed token.
_TOKEN = r"[A-Za-z0-9+/=_-]"
_CANDIDATE = re.compile(
    rf"(?i)key|pass|pwd|secret|token|auth|cred|contrase|bearer|://[^\s/]*@"
    rf"|(?<!{_TOKEN})(?={_TOKEN}{{16}})(?={_TOKEN}*\d)(?={_TOKEN}*[a-z])"
)
# Content hashes named as such (lockfiles, pinned revisions, checksums) and inline data are
# not secrets: entropy findings on such lines are dropped.
_HASH_CONTEXT = re.compile(
    r"(?i)sha\d*|hash|checksum|digest|integrity|\brev\b|commit|etag|\bh1:|md5|\.git@|#|;base64,"
    r"|\bssh-(?:rsa|dss|ed25519)\s|\becdsa-sha2-"  # public keys too
)
# Hex strings are digests and ids unless a secret word is on the line (gitleaks asks as much).
_SECRET_WORD = re.compile(r"(?i)key|pass|pwd|secret|token|auth|cred")
# Public PEM blocks (certificates, public keys) are base64 lines of high entropy, not secrets.
_PUBLIC_BEGIN = re.compile(r"-----BEGIN (?![A-Z0-9 ]*PRIVATE)[A-Z0-9 ]+-----")
_PUBLIC_END = re.compile(r"-----END [A-Z0-9 ]+-----")
_LONGEST_LINE = 4000  # minified bundles: the patterns still apply, the scan would cost too much
_MIN_LENGTH = 4  # shorter findings ("pw", "1") would blank out innocent text

_lock = threading.Lock()  # scan_line touches detect-secrets' global settings and plugin state
_configured = False


def redact_lines(text: str) -> str:
    """``text`` with the values detect-secrets finds on each line replaced by ``PLACEHOLDER``."""
    lines = text.splitlines(keepends=True)
    public = False  # inside a certificate or public key block
    for i, line in enumerate(lines):
        body = line.rstrip("\r\n")
        if public or _PUBLIC_BEGIN.search(body):
            public = not _PUBLIC_END.search(body)
            continue
        if len(body) <= _LONGEST_LINE and _CANDIDATE.search(body):
            for value in secret_values(body):
                edge = r"(?<![A-Za-z0-9])" if value[0].isalnum() else ""
                end = r"(?![A-Za-z0-9])" if value[-1].isalnum() else ""
                body = re.sub(edge + re.escape(value) + end, PLACEHOLDER, body)
            lines[i] = body + line[len(line.rstrip("\r\n")) :]
    return "".join(lines)


@lru_cache(maxsize=8192)
def secret_values(line: str) -> tuple[str, ...]:
    """The secret values detect-secrets reports on ``line``, longest first."""
    with _lock:
        _configure()
        plugins = {plugin.secret_type: plugin for plugin in get_plugins()}
        found = {s.secret_value for s in scan_line(line) if _wanted(s, line, plugins)}
    return tuple(sorted((v for v in found if v), key=lambda v: (-len(v), v)))


def _wanted(secret: PotentialSecret, line: str, plugins: dict[str, object]) -> bool:
    """A finding worth redacting: above its entropy limit, no placeholder, no named hash."""
    value = secret.secret_value or ""
    if len(value) < _MIN_LENGTH or PLACEHOLDER in value:
        return False
    plugin = plugins.get(secret.type)
    if isinstance(plugin, HighEntropyStringsPlugin):
        if plugin.calculate_shannon_entropy(value) <= plugin.entropy_limit or _HASH_CONTEXT.search(line):
            return False
        if plugin.secret_type == "Hex High Entropy String" and not _SECRET_WORD.search(line):
            return False
        if not re.search(rf"(?<![A-Za-z0-9+/_-]){re.escape(value)}(?![A-Za-z0-9+/_-])", line):
            return False  # a piece of a longer token (a UUID's last group, a word in a hash)
    return not (secret.type in _HEURISTIC and is_placeholder(value))


def _configure() -> None:
    """Enable our plugin list in detect-secrets' (process-wide) settings, once."""
    global _configured
    if not _configured:
        get_settings().configure_plugins([{"name": name} for name in _PLUGINS])
        _configured = True
