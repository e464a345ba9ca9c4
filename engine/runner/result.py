"""The result of a successful run: plain JSON-safe values, paths relative to work_dir."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RunResult:
    model_id: str | None
    model_name: str | None
    leaderboard: list[dict[str, Any]] = field(default_factory=list)
    leaderboard_sort: str | None = None
    holdout_metrics: dict[str, Any] = field(default_factory=dict)
    plots: list[dict[str, str]] = field(default_factory=list)
    artifact_filename: str | None = None
    artifact_sha256: str | None = None
    environment: dict[str, Any] = field(default_factory=dict)
    preprocessing: dict[str, Any] = field(default_factory=dict)
    feature_schema: list[dict[str, Any]] = field(default_factory=list)
    model_params: dict[str, Any] = field(default_factory=dict)
    target_classes: list[Any] = field(default_factory=list)
    outcome: dict[str, Any] = field(default_factory=dict)
    # What a task's model found beyond its scores: cluster sizes, flagged rows, the forecast.
    summary: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
