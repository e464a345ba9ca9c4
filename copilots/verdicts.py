"""The deployment review's three verdict literals, their order and their tone classes."""

from __future__ import annotations

DO_NOT_DEPLOY = "DO NOT DEPLOY"
APPROVE_WITH_CAVEATS = "APPROVE WITH CAVEATS"
APPROVE = "APPROVE"

# Longest literal first: "APPROVE WITH CAVEATS" also starts with "APPROVE".
LITERALS = (
    (APPROVE_WITH_CAVEATS, 1, "text-warn-500"),
    (DO_NOT_DEPLOY, 2, "text-danger-500"),
    (APPROVE, 0, "text-success-500"),
)


def verdict_level(verdict: str | None) -> int | None:
    """0 approve, 1 with caveats, 2 do not deploy; None when it breaks the contract.

    The contract: `APPROVE`, `APPROVE WITH CAVEATS: …` or `DO NOT DEPLOY: …`.
    """
    text = (verdict or "").strip()
    for literal, level, _tone in LITERALS:
        if not text.startswith(literal):
            continue
        rest = text[len(literal) :]
        if level == 0:
            # "APPROVE", "APPROVE.", "APPROVE: …"; not "APPROVED", nor the caveats sans colon
            if rest.startswith(" WITH CAVEATS") or (rest[:1].isalnum()):
                return None
            return 0
        return level if rest.lstrip().startswith(":") else None
    return None


def verdict_tone(verdict: str | None) -> str:
    text = (verdict or "").strip()
    for literal, _level, tone in LITERALS:
        if text.startswith(literal):
            return tone
    return ""
