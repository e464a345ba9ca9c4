"""What a run leaves behind: holdout metrics, plots, the pipeline file and its description."""

from __future__ import annotations

import hashlib
import os
import platform
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from engine.plans import SetupOptions
from engine.runner.checks import feature_kind
from engine.runner.errors import is_interrupt
from engine.runner.events import EventSink, Progress
from engine.runner.jsonsafe import to_jsonable

ARTIFACT_STEM = "pipeline"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def setup_summary(exp: Any) -> dict[str, Any]:
    """PyCaret's setup table (Description → Value) as a JSON-safe dict."""
    table = exp.pull()
    return {
        str(description): to_jsonable(value)
        for description, value in zip(table["Description"], table["Value"], strict=True)
    }


def holdout_metrics(exp: Any, model: Any) -> dict[str, Any]:
    exp.predict_model(model, verbose=False)
    table = exp.pull()
    return {str(k): to_jsonable(v) for k, v in table.iloc[0].items()}


def save_plots(
    exp: Any,
    model: Any,
    *,
    names: Iterable[str],
    work_dir: Path,
    sink: EventSink,
    progress: Progress,
    drawn: Mapping[str, Callable[[Path], None]] | None = None,
) -> list[dict[str, str]]:
    """Save each plot as ``<name>.png``; a failing plot is only a warning.

    A name in ``drawn`` is drawn by its function (PyCaret saves those plots as interactive
    HTML); any other goes through PyCaret's ``plot_model``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    saved: list[dict[str, str]] = []
    for name in names:
        target = work_dir / f"{name}.png"
        try:
            if drawn and name in drawn:
                drawn[name](target)
            else:
                produced = exp.plot_model(model, plot=name, save=str(work_dir), verbose=False)
                source = Path(produced)
                if not source.is_absolute():
                    source = work_dir / source.name
                if source != target:
                    os.replace(source, target)
            saved.append({"name": name, "filename": target.name})
            sink.event("info", f"plot saved: {name}", {"name": name, "filename": target.name})
        except Exception as exc:
            if is_interrupt(exc):
                raise
            reason = f"{type(exc).__name__}: {exc}".strip()
            sink.event(
                "warning",
                f"plot {name} skipped: {reason}",
                {"name": name, "error": reason},
            )
        finally:
            plt.close("all")
        progress.step()
    return saved


def save_artifact(exp: Any, model: Any, work_dir: Path) -> tuple[str, str]:
    exp.save_model(model, str(work_dir / ARTIFACT_STEM), verbose=False)
    path = work_dir / f"{ARTIFACT_STEM}.pkl"
    return path.name, file_sha256(path)


def environment(exp: Any, dataset_sha256: str) -> dict[str, Any]:
    import numpy
    import pycaret
    import sklearn

    return {
        "python": platform.python_version(),
        "pycaret": pycaret.__version__,
        "sklearn": sklearn.__version__,
        "pandas": pd.__version__,
        "numpy": numpy.__version__,
        "dataset_sha256": dataset_sha256,
        "session_id": to_jsonable(exp.seed),
    }


def feature_schema(
    data: pd.DataFrame, target: str | None, options: SetupOptions
) -> list[dict[str, Any]]:
    """The input columns the saved pipeline expects, in dataset order."""
    ignored = set(options.ignore_features or [])
    schema = []
    for column in data.columns:
        if column == target or column in ignored:
            continue
        kind = feature_kind(data[column], column, options)
        feature: dict[str, Any] = {
            "name": str(column),
            "dtype": str(data[column].dtype),
            "kind": kind,
        }
        if kind == "categorical":
            categories = training_categories(data[column])
            if categories is not None:
                feature["categories"] = categories
        schema.append(feature)
    return schema


# A categorical column with more distinct values than this is not listed (an id, free text):
# its predictions are not checked for unseen categories.
MAX_LISTED_CATEGORIES = 500


def training_categories(series: pd.Series) -> list[str] | None:
    """The distinct values of a categorical training column, as text and sorted, so a predict
    request can say which of its values the model never saw; None past the cap."""
    values = series.dropna().unique()
    if len(values) > MAX_LISTED_CATEGORIES:
        return None
    return sorted({str(to_jsonable(v)) for v in values})


def target_classes(data: pd.DataFrame, target: str, task: str) -> list[Any]:
    """Class labels in the order PyCaret's label encoder assigns them (sorted)."""
    if task != "classification":
        return []
    labels = data[target].dropna().unique().tolist()
    try:
        labels = sorted(labels)
    except TypeError:
        labels = sorted(labels, key=str)
    return [to_jsonable(label) for label in labels]


def model_params(model: Any) -> dict[str, Any]:
    get_params = getattr(model, "get_params", None)
    if get_params is None:
        return {}
    return {str(k): to_jsonable(v) for k, v in get_params(deep=False).items()}
