"""Version skew between the libraries a pipeline was trained with and those that serve it."""

from __future__ import annotations

import importlib.metadata
import platform
import re

from copilots.rules.risks import risk

# Environment key (as the runner records it) → distribution name.
PACKAGES = {"pycaret": "pycaret", "sklearn": "scikit-learn", "pandas": "pandas"}
# A pickled pipeline is tied to these libraries; a different minor version may not load.
PACKAGE_SEVERITY = {"pycaret": "high", "sklearn": "high", "pandas": "medium"}


def serving_environment() -> dict[str, str | None]:
    """Library versions of this (serving) process, read without importing them."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for key, distribution in PACKAGES.items():
        try:
            versions[key] = importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            versions[key] = None
    return versions


def version_key(version: str | None) -> tuple[str, ...]:
    """Major, minor and patch of a version string, as digit strings."""
    return tuple(re.findall(r"\d+", version or ""))[:3]


def version_skew_risks(
    *, trained: dict[str, object], serving: dict[str, str | None]
) -> list[dict[str, str]]:
    """One risk per library whose version differs; a patch-level difference is low."""
    if not any(trained.get(k) for k in PACKAGES):
        return [
            risk(
                "training environment unknown",
                "low",
                "the run stored no library versions, so version skew cannot be checked",
            )
        ]
    found = []
    for key in PACKAGES:
        was, now = trained.get(key), serving.get(key)
        if not was or not now or was == now:
            continue
        a, b = version_key(str(was)), version_key(str(now))
        severity = PACKAGE_SEVERITY[key] if a[:2] != b[:2] else "low"
        found.append(
            risk(
                f"version skew: {key}",
                severity,
                f"trained with {key} {was}, serving with {now}",
            )
        )
    return found
