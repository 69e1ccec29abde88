"""Who may use the engine, and how much: API keys, per-user token budgets, rate limits.

``--api-keys FILE`` is JSON: ``{"users": [{"name": "ana", "key": "...", "token_budget":
2000000, "requests_per_minute": 240}]}``. Keys are compared in constant time against every
entry, never logged, and never put in metric labels. Usage (tokens, requests per user) is
kept in ``usage.json`` beside the keys file, for ``ghostwright engine usage``.

The Codex-Mini rule: past 90% of a user's budget, requests go to the mini tier; at 100%
they are refused (429) until the budget is raised.
"""

from __future__ import annotations

import hmac
import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ghostwright.errors import RequestError

MINI_SHARE = 0.9


@dataclass
class User:
    name: str
    key: str
    token_budget: int | None = None
    requests_per_minute: int | None = None
    tokens: int = 0  # prompt + generated, since the usage file began
    requests: int = 0
    recent: list[float] = field(default_factory=list)  # request times in the last minute


class Access:
    def __init__(self, users: list[User], usage_path: Path | None = None) -> None:
        self.users = users
        self.usage_path = usage_path
        self._lock = threading.Lock()
        if usage_path and usage_path.is_file():
            try:
                saved = json.loads(usage_path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                saved = {}
            for user in users:
                entry = saved.get(user.name) or {}
                user.tokens, user.requests = int(entry.get("tokens", 0)), int(entry.get("requests", 0))

    @property
    def required(self) -> bool:
        return bool(self.users)

    def authenticate(self, header: str | None) -> User | None:
        """The user whose key the ``Authorization: Bearer`` header carries; every key is compared."""
        if not header or not header.startswith("Bearer "):
            return None
        offered = header[7:].strip().encode()
        found = None
        for user in self.users:
            if hmac.compare_digest(user.key.encode(), offered):
                found = user
        return found

    def admit(self, user: User | None) -> str | None:
        """Count the request against the user's rate; the tier the budget rule forces, if any.
        Raises :class:`Refused` when over budget or over the rate."""
        if user is None:
            return None
        with self._lock:
            now = time.monotonic()
            user.recent = [t for t in user.recent if now - t < 60]
            if user.requests_per_minute is not None and len(user.recent) >= user.requests_per_minute:
                raise Refused(f"rate limit: {user.requests_per_minute} requests a minute", retry_after=60)
            if user.token_budget is not None and user.tokens >= user.token_budget:
                raise Refused(f"token budget of {user.token_budget} spent", retry_after=None)
            user.recent.append(now)
            user.requests += 1
            if user.token_budget is not None and user.tokens >= MINI_SHARE * user.token_budget:
                return "mini"
            return None

    def spend(self, user: User | None, tokens: int) -> None:
        if user is None:
            return
        with self._lock:
            user.tokens += tokens
            self._save()

    def _save(self) -> None:
        if not self.usage_path:
            return
        data = {u.name: {"tokens": u.tokens, "requests": u.requests, "token_budget": u.token_budget}
                for u in self.users}
        tmp = self.usage_path.with_suffix(".tmp")
        try:
            tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
            os.replace(tmp, self.usage_path)
        except OSError:
            pass  # usage is a report, not a reason to fail a request


class Refused(Exception):
    def __init__(self, message: str, retry_after: int | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def load_keys(path: Path) -> Access:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise RequestError(f"{path}: cannot read the API keys file ({exc})") from exc
    entries = raw.get("users") if isinstance(raw, dict) else None
    if not isinstance(entries, list) or not entries:
        raise RequestError(f'{path}: expected {{"users": [{{"name": ..., "key": ...}}, ...]}}')
    users, names = [], set()
    for i, e in enumerate(entries):
        if not isinstance(e, dict) or not isinstance(e.get("name"), str) or not isinstance(e.get("key"), str):
            raise RequestError(f"{path}: users[{i}] needs a name and a key (strings)")
        if len(e["key"]) < 16:
            raise RequestError(f"{path}: users[{i}] ({e['name']}): a key needs at least 16 characters")
        if e["name"] in names:
            raise RequestError(f"{path}: user {e['name']!r} appears twice")
        names.add(e["name"])
        budget, rate = e.get("token_budget"), e.get("requests_per_minute")
        for label, value in (("token_budget", budget), ("requests_per_minute", rate)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise RequestError(f"{path}: users[{i}].{label} must be a positive integer")
        users.append(User(e["name"], e["key"], budget, rate))
    return Access(users, path.with_name("usage.json"))


def single_key(name: str, key: str) -> Access:
    """The local daemon's access: one key, from a 0600 token file."""
    return Access([User(name, key)])
