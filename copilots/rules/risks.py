"""Risks as every copilot reports them: one shape, three severities, an order, a verdict floor."""

from __future__ import annotations

from copilots.verdicts import APPROVE, APPROVE_WITH_CAVEATS, DO_NOT_DEPLOY

SEVERITIES = ("high", "medium", "low")
SEVERITY_RANK = {"low": 0, "medium": 1, "high": 2}


def risk(name: str, severity: str, evidence: str) -> dict[str, str]:
    """One risk of the advice envelope: `{name, severity, evidence}`."""
    assert severity in SEVERITIES
    return {"name": name, "severity": severity, "evidence": evidence}


def sort_risks(risks: list[dict[str, str]]) -> list[dict[str, str]]:
    """Most severe first; within a severity, the order the checks found them in."""
    return sorted(risks, key=lambda r: -SEVERITY_RANK.get(r.get("severity", "low"), 0))


def verdict_floor(risks: list[dict[str, str]]) -> str:
    """The mildest deployment verdict the risks allow, naming the risks that set it.

    Any high-severity risk means DO NOT DEPLOY, any medium one APPROVE WITH CAVEATS.
    """
    high = [r for r in risks if r["severity"] == "high"]
    medium = [r for r in risks if r["severity"] == "medium"]
    if high:
        return f"{DO_NOT_DEPLOY}: " + "; ".join(f"{r['name']} ({r['evidence']})" for r in high)
    if medium:
        return f"{APPROVE_WITH_CAVEATS}: " + "; ".join(
            f"{r['name']} ({r['evidence']})" for r in medium
        )
    return APPROVE
