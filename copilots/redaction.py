"""Redact secrets from anything a copilot might send: API keys, credentials in URLs, settings.

Column names, cells, tracebacks and event messages are user data and can carry secrets (a key
pasted into a CSV, a DATABASE_URL in a traceback). Everything that leaves for an LLM goes
through `redact` first.

The patterns run on RE2, whose matching time is linear in the input: with Python's backtracking
engine the URL-credential pattern was quadratic, and one long column name held a worker for
minutes. Each string is also capped before it is redacted, so the work per string is bounded.
"""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import unquote, urlsplit

import re2
from django.conf import settings

REDACTED = "[REDACTED]"
# Environment variables whose values are secrets, by name (names are short: stdlib re is fine).
SECRET_ENV_NAME = re.compile(
    r"(API_?KEY|SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIALS?|PRIVATE_KEY|_KEY$|^DATABASE_URL$|"
    r"^REDIS_URL$|_DSN$)",
    re.IGNORECASE,
)
MIN_SECRET_LENGTH = 8
# Above any prompt the copilots build (a few fenced blocks of 24,000 characters), so a message is
# never cut; a string past it is user data that no prompt would carry whole anyway.
STRING_CAP = 200_000
# A secret that straddles the cap is redacted whole before the string is cut: the patterns see
# this much more than is kept.
CAP_WINDOW = 2 * STRING_CAP

_PATTERNS: list[tuple[Any, str]] = [
    # The studio's own API keys, whole or as a display prefix.
    (re2.compile(r"pck_[A-Za-z0-9_\-]+"), "pck_" + REDACTED),
    # scheme://user:password@host (and scheme://token@host).
    (re2.compile(r"\b([a-zA-Z][a-zA-Z0-9+.\-]*://)[^\s/@'\"<>]+@"), r"\1" + REDACTED + "@"),
    # Common provider key shapes.
    (re2.compile(r"\bsk-(?:ant-|proj-)?[A-Za-z0-9_\-]{16,}"), "sk-" + REDACTED),
    (re2.compile(r"\bAKIA[0-9A-Z]{16}\b"), REDACTED),
    (re2.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}\b"), REDACTED),
    (re2.compile(r"(?i)\b(Bearer|Token)\s+[A-Za-z0-9._\-]{16,}"), r"\1 " + REDACTED),
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
    """`text` with every secret replaced, cut to STRING_CAP characters; linear in its length."""
    if not text:
        return text
    dropped = len(text) - STRING_CAP
    text = text[:CAP_WINDOW]
    for value in secrets if secrets is not None else secret_values():
        if value in text:
            text = text.replace(value, REDACTED)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    if dropped > 0:
        text = f"{text[:STRING_CAP]}… [{dropped} more characters]"
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
