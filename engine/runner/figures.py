"""Plots the runner draws itself, as PNG files: PyCaret draws these with plotly and saves them
as interactive HTML (even under a .png name), which a page cannot show as an image.

Each function takes plain data and a path, and uses matplotlib's object API (no pyplot state
beyond the figure it closes).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

WIDTH, HEIGHT, DPI = 8, 5, 100
HISTORY_COLOUR = "#3b6ea5"
FORECAST_COLOUR = "#d9822b"


def _figure():
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI, layout="tight")
    return figure, figure.add_subplot()


def _save(figure, path: Path) -> None:
    figure.savefig(path, format="png")


def scatter_by_label(
    points: np.ndarray, labels: list[Any], *, title: str, axes_labels: tuple[str, str], path: Path
) -> None:
    """A 2-D scatter, one colour per label (cluster, or anomaly 0/1), with a legend."""
    figure, ax = _figure()
    series = pd.Series([str(label) for label in labels])
    for label in sorted(series.unique(), key=_natural):
        mask = (series == label).to_numpy()
        ax.scatter(points[mask, 0], points[mask, 1], s=14, alpha=0.6, label=label)
    ax.set_title(title)
    ax.set_xlabel(axes_labels[0])
    ax.set_ylabel(axes_labels[1])
    ax.legend(loc="best", fontsize="small", frameon=False)
    _save(figure, path)


def _natural(label: str) -> tuple:
    # "Cluster 10" after "Cluster 9"
    head, _, tail = label.rpartition(" ")
    return (head, int(tail)) if tail.isdigit() else (label, 0)


def bars(labels: list[str], counts: list[int], *, title: str, ylabel: str, path: Path) -> None:
    figure, ax = _figure()
    ax.bar(labels, counts, color=HISTORY_COLOUR)
    for x, count in enumerate(counts):
        ax.annotate(str(count), (x, count), ha="center", va="bottom", fontsize="small")
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    _save(figure, path)


def _positions(index: pd.Index) -> Any:
    return index.to_timestamp() if isinstance(index, pd.PeriodIndex) else index


def forecast(history: pd.Series, predicted: pd.DataFrame, *, title: str, path: Path) -> None:
    """The series, then the forecast (``y_pred``) with its interval (``lower``/``upper``)."""
    figure, ax = _figure()
    ax.plot(_positions(history.index), history.to_numpy(), color=HISTORY_COLOUR, label="history")
    x = _positions(predicted.index)
    ax.plot(x, predicted["y_pred"].to_numpy(), color=FORECAST_COLOUR, label="forecast")
    if {"lower", "upper"} <= set(predicted.columns) and predicted["lower"].notna().all():
        ax.fill_between(
            x,
            predicted["lower"].to_numpy(dtype=float),
            predicted["upper"].to_numpy(dtype=float),
            color=FORECAST_COLOUR,
            alpha=0.2,
            label="prediction interval",
        )
    ax.set_title(title)
    ax.set_ylabel(str(history.name or "value"))
    ax.legend(loc="upper left", fontsize="small", frameon=False)
    _save(figure, path)


def residuals(values: pd.Series, *, title: str, path: Path) -> None:
    """In-sample residuals over time, around a zero line."""
    figure, ax = _figure()
    ax.axhline(0, color="#888888", linewidth=1)
    ax.plot(_positions(values.index), values.to_numpy(dtype=float), color=HISTORY_COLOUR)
    ax.set_title(title)
    ax.set_ylabel("residual")
    _save(figure, path)
