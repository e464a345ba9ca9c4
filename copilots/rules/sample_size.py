"""Whether a model saw enough training rows: in all, and per feature."""

from __future__ import annotations

from copilots.rules.risks import risk

ROWS_HIGH, ROWS_MEDIUM, ROWS_LOW = 100, 300, 1000
PER_FEATURE_HIGH, PER_FEATURE_MEDIUM, PER_FEATURE_LOW = 5, 10, 20


def _severity_below(value: float, high: float, medium: float, low: float) -> str | None:
    """The severity of the first threshold `value` falls below, most severe first."""
    if value < high:
        return "high"
    if value < medium:
        return "medium"
    if value < low:
        return "low"
    return None


def sample_size_risks(*, train_rows: int, n_features: int) -> list[dict[str, str]]:
    found = []
    severity = _severity_below(train_rows, ROWS_HIGH, ROWS_MEDIUM, ROWS_LOW)
    if severity:
        found.append(risk("small training sample", severity, f"{train_rows} training rows"))
    per_feature = train_rows / max(1, n_features)
    severity = _severity_below(per_feature, PER_FEATURE_HIGH, PER_FEATURE_MEDIUM, PER_FEATURE_LOW)
    if severity:
        found.append(
            risk(
                "few rows per feature",
                severity,
                f"{train_rows} training rows for {n_features} features "
                f"({per_feature:.1f} per feature)",
            )
        )
    return found
