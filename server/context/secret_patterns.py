"""Our own secret detectors: the formats detect-secrets lacks, and values named like secrets.

detect-secrets (see :mod:`.secret_scan`) finds most vendor tokens one line at a time. These
regular expressions cover what it cannot see that way, or does not know: private keys that
span lines (or are cut by a prompt window), triple-quoted values, newer token prefixes
(GitHub fine-grained, Anthropic, Hugging Face, Stripe webhooks, Azure client secrets...),
credentials in URLs, headers and command lines, and any value assigned to a name with a
secret word in it. Placeholders (``changeme``, ``${API_KEY}``, ``<your-key>``) are kept:
they say what the code needs without being a secret.
"""

from __future__ import annotations

import re

PLACEHOLDER = "<redacted>"

# Whole tokens recognised by shape, whatever the name they are assigned to.
_TOKEN_PATTERNS = [
    re.compile(p)
    for p in (
        # a private key block; cut by the window: to the end of the text, or from its start
        r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----[\s\S]*?(?:-----END[A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----|\Z)",
        r"\A(?:[ \t]*[A-Za-z0-9+/=]+\r?\n)+[ \t]*-----END[A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----",
        r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA|A3T[A-Z0-9])[0-9A-Z]{16}\b",  # AWS access key id
        r"\bamzn\.mws\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b",  # AWS MWS
        r"\bgh[pousr]_[A-Za-z0-9]{36,}\b",  # GitHub tokens
        r"\bgithub_pat_[A-Za-z0-9_]{22,}\b",
        r"\bgl(?:pat|dt|rt|ptt|ft|soat|cbt|imt|oas|agent)-[A-Za-z0-9_-]{20,}",  # GitLab
        r"\bgl(?:sa|c)_[A-Za-z0-9+/=_]{32,}",  # Grafana
        r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b",  # Slack
        r"\bxapp-\d-[A-Za-z0-9-]{20,}\b",
        r"https://hooks\.slack\.com/services/[A-Za-z0-9/]+",
        r"\bsk-(?:proj-|ant-|live-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}",  # OpenAI / Anthropic style
        r"\b[rsp]k_(?:live|test)_[0-9A-Za-z]{16,}\b",  # Stripe
        r"\bwhsec_[0-9A-Za-z]{24,}\b",
        r"\bAIza[0-9A-Za-z_-]{35}\b",  # Google API key
        r"\bGOCSPX-[0-9A-Za-z_-]{28}\b",  # Google OAuth client secret
        r"\bya29\.[0-9A-Za-z_-]{20,}",  # Google OAuth access token
        r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",  # JWT
        r"\bhf_[A-Za-z0-9]{30,}\b",  # Hugging Face
        r"\bnpm_[A-Za-z0-9]{36}\b",  # npm
        r"\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}\b",  # SendGrid
        r"\bkey-[0-9a-z]{32}\b",  # Mailgun
        r"\b[0-9a-f]{32}-us\d{1,2}\b",  # Mailchimp
        r"\bpypi-[A-Za-z0-9_-]{50,}\b",  # PyPI upload tokens
        r"\b[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{31,34}",  # Azure AD client secret
        r"(?i)(?<=AccountKey=)[A-Za-z0-9+/]{40,}={0,2}",  # Azure storage connection strings
        r"(?i)(?<=SharedAccessKey=)[A-Za-z0-9+/]{40,}={0,2}",
        r"(?<=[?&]sig=)[A-Za-z0-9%+/=]{20,}",  # Azure SAS
        r"\b(?:shpat|shpss|shpca|shppa)_[0-9a-fA-F]{32}\b",  # Shopify
        r"\bdapi[0-9a-f]{32}\b",  # Databricks
        r"\bdo[por]_v1_[0-9a-f]{64}\b",  # DigitalOcean
        r"\bdp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,}\b",  # Doppler
        r"\blin_api_[A-Za-z0-9]{40}\b",  # Linear
        r"\bPMAK-[0-9a-f]{24}-[0-9a-f]{34}\b",  # Postman
        r"\bpul-[0-9a-f]{40}\b",  # Pulumi
        r"\bhv[sb]\.[A-Za-z0-9_-]{24,}",  # Vault
        r"\bAGE-SECRET-KEY-1[0-9A-Z]{58}\b",  # age
        r"\bLTAI[A-Za-z0-9]{20}\b",  # Alibaba
        r"\bsntr[ysu]_[A-Za-z0-9+/=_]{40,}",  # Sentry
        r"\bATATT3[A-Za-z0-9_=-]{100,}",  # Atlassian
        r"\bNRAK-[0-9A-Z]{27}\b",  # New Relic
        r"\b(?:secret|ntn)_[A-Za-z0-9]{43}\b",  # Notion
        r"\brubygems_[0-9a-f]{48}\b",
        r"\b[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,}",  # Terraform Cloud
        r"\bEAA[A-Za-z0-9]{90,}",  # Facebook / Meta
        r"(?i)(?<=\bbearer )[A-Za-z0-9._~+/=-]{16,}",  # Authorization: Bearer <token>
        r"(?i)(?<=\bbasic )[A-Za-z0-9+/]{16,}={0,2}",  # Authorization: Basic <base64>
    )
]

# A name holding one of these words as a whole part: "GITHUB_TOKEN", "accessToken" yes, "tokenizer" no.
_WORDS = r"password|passwd|pwd|pass|secret|token|api[_-]?key|apikey|access[_-]?key|credentials?"
_PART = r"(?:(?<![A-Za-z])|(?-i:(?<=[a-z])(?=[A-Z])))"  # after a non-letter, or camelCase
_KEYS = r"private[_-]?key|auth[_-]?key|signing[_-]?key|encryption[_-]?key|hmac[_-]?key"
_NAME = rf"(?<![\w.-])[\w.-]*{_PART}(?:{_WORDS}|{_KEYS})s?(?:[_.-][\w.-]*)?(?!\w)"
# name = "value" / name: 'value' / "name": "value" / name => "value" (quoted: any value)
_QUOTED = re.compile(
    rf"(?i)(\"?{_NAME}\"?\]?\s*(?::=|=>|[:=])\s*[bru]{{0,2}})([\"'`])((?:(?!\2)[^\\\n]|\\.)+)\2"
)
# name = """value""" (triple-quoted, any lines)
_TRIPLE = re.compile(rf"(?i)({_NAME}\s*[:=]\s*[bru]{{0,2}})(\"\"\"|\'\'\')([\s\S]+?)\2")
# NAME=value in env and config files (unquoted: only values that look generated)
_BARE = re.compile(
    rf"(?im)^(\s*(?:export\s+)?{_NAME}\s*[:=]\s*|\s*set\s+-x\s+{_NAME}\s+)"
    r"((?=[^\s'\"#]*\d)[A-Za-z0-9_\-+/=.~%^*!@#]{8,})\s*$"
)
# A Kubernetes/compose env entry: "- name: DB_PASSWORD" then "value: ..." on the next line
_ENV_ENTRY = re.compile(
    rf"(?im)^(\s*-?\s*name:\s*[\"']?{_NAME}[\"']?\s*\r?\n\s*value:\s*)([\"']?)([^\"'\s]+)\2\s*$"
)
# Credentials elsewhere on a line: user:password@ in URLs, ?password= in query strings and
# connection strings, --password= and -u user:password on command lines, <password> in XML.
_INLINE = re.compile(
    r"(?i)(://[^/\s:@]*:)([^/\s@]+)(?=@)"
    r"|((?:[?&;]|\b)[\w.-]*?(?:password|pwd|passwd)=)(?![A-Za-z_]+(?:[,)\s]|$))([^&;\s\"'(),]+)(?=[&;\s\"'<]|$)"
    r"|(\s-u\s+[\w.-]+:)(\S+)"
    r"|(:_authToken=)(\S+)"
    r"|(\blogin\s+\S+\s+password\s+)(\S+)"
    r"|(<(?:password|secret|api[_-]?key|token)>)([^<]+)(?=</)"
    r"|(\b(?:key|name)=\"[\w.-]*(?:password|secret|api[_-]?key|token)\"\s+value=\")([^\"]+)"
)

_STOPWORDS = {
    "changeme", "password", "passwd", "secret", "token", "apikey", "key", "test", "testing", "dummy", "fake",
    "sample", "example", "placeholder", "redacted", "none", "null", "nil", "undefined", "true", "false",
    "bearer", "basic", "string", "todo", "tbd", "xxx", "notset", "empty", "hidden", "required",
}
_TEMPLATED = re.compile(r"\$\{|\$\(|\{\{|\{[\w.\[\]'\"]*\}|^\$\w+$|%[sd(]|^<[^<>]+>$|^\*+$|^x{4,}$|^(.)\1+$", re.I)
_PLACEHOLDER_WORDS = re.compile(r"(?i)^(?:your|insert|enter|replace)[-_ ]|example|placeholder|changeme|dummy")
# a plain URL, a path, or the NAME_OF_A_VARIABLE that holds the secret
_NOT_A_VALUE = re.compile(r"(?i:^[a-z][\w+.-]*://[^\s@]*$|^(?:~|\.{1,2})?/[\w.@/ -]*$)|^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")


def is_placeholder(value: str) -> bool:
    """True for values that name a secret without being one: empty, templated, masked,
    ``changeme``/``<your-key>``/``example``, already redacted, a plain URL, a path, an
    ``ENV_VAR_NAME``."""
    value = value.strip()
    if not value or PLACEHOLDER in value:
        return True
    if value.lower().replace("-", "").replace("_", "") in _STOPWORDS:
        return True
    return bool(_TEMPLATED.search(value) or _PLACEHOLDER_WORDS.search(value) or _NOT_A_VALUE.match(value))


def redact_patterns(text: str) -> str:
    """``text`` with what these patterns find replaced by ``PLACEHOLDER``."""
    for pattern in _TOKEN_PATTERNS:
        text = pattern.sub(PLACEHOLDER, text)
    text = _TRIPLE.sub(lambda m: f"{m[1]}{m[2]}{_keep(m[3])}{m[2]}", text)
    text = _QUOTED.sub(lambda m: f"{m[1]}{m[2]}{_keep(m[3])}{m[2]}", text)
    text = _INLINE.sub(_inline, text)
    text = _ENV_ENTRY.sub(lambda m: f"{m[1]}{m[2]}{_keep(m[3])}{m[2]}", text)
    return _BARE.sub(lambda m: f"{m[1]}{_keep(m[2])}", text)


def _inline(match: re.Match[str]) -> str:
    """The name part of an inline credential kept, its value redacted (unless a placeholder)."""
    i = next(i for i in range(1, len(match.groups()), 2) if match[i] is not None)
    return f"{match[i]}{_keep(match[i + 1])}"


def _keep(value: str) -> str:
    """Leave values that cannot be secrets (placeholders, already redacted) readable."""
    return value if is_placeholder(value) else PLACEHOLDER
