"""Redact secrets from anything a copilot might send: API keys, credentials in URLs, settings.

Column names, cells, tracebacks and event messages are user data and can carry secrets (a key
pasted into a CSV, a DATABASE_URL in a traceback). Everything that leaves for an LLM goes
through `redact` first.
"""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import unquote, urlsplit

from django.conf import settings

REDACTED = "[REDACTED]"
# Environment variables whose values are secrets, by name.
SECRET_ENV_NAME = re.compile(
    r"(API_?KEY|SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIALS?|PRIVATE_KEY|_KEY$|^DATABASE_URL$|"
    r"^REDIS_URL$|_DSN$)",
    re.IGNORECASE,
)
MIN_SECRET_LENGTH = 8

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # The studio's own API keys, whole or as a display prefix.
    (re.compile(r"pck_[A-Za-z0-9_\-]+"), "pck_" + REDACTED),
    # scheme://user:password@host (and scheme://token@host).
    (re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.\-]*://)[^\s/@'\"<>]+@"), r"\1" + REDACTED + "@"),
    # Common provider key shapes.
    (re.compile(r"\bsk-(?:ant-|proj-)?[A-Za-z0-9_\-]{16,}"), "sk-" + REDACTED),
    (re.compile(r"\bAKIA[0-9A-Z]{16}\b"), REDACTED),
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}\b"), REDACTED),
    (re.compile(r"\b(Bearer|Token)\s+[A-Za-z0-9._\-]{16,}", re.IGNORECASE), r"\1 " + REDACTED),
]


def _url_password(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return unquote(parts.password or "")


def secret_values() -> list[str]:
    """Literal secret values known to this process, longest first."""
    values: set[str] = set()
    values.add(str(getattr(settings, "SECRET_KEY", "") or ""))
    for database in getattr(settings, "DATABASES", {}).values():
        values.add(str(database.get("PASSWORD") or ""))
    for url in (getattr(settings, "REDIS_URL", ""), os.environ.get("DATABASE_URL", "")):
        if url:
            values.add(_url_password(url))
    for name, value in os.environ.items():
        if SECRET_ENV_NAME.search(name) and value:
            values.add(value)
            if "://" in value:
                values.add(_url_password(value))
    return sorted((v for v in values if len(v) >= MIN_SECRET_LENGTH), key=len, reverse=True)


def redact_text(text: str, secrets: list[str] | None = None) -> str:
    if not text:
        return text
    for value in secrets if secrets is not None else secret_values():
        if value in text:
            text = text.replace(value, REDACTED)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact(value: Any, secrets: list[str] | None = None) -> Any:
    """A copy of `value` (JSON-like) with every string, keys included, redacted."""
    if secrets is None:
        secrets = secret_values()
    if isinstance(value, str):
        return redact_text(value, secrets)
    if isinstance(value, dict):
        return {redact(k, secrets): redact(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v, secrets) for v in value]
    return value
