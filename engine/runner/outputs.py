"""What a run leaves behind: holdout metrics, plots, the pipeline file and its description."""

from __future__ import annotations

import hashlib
import math
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
                produced = exp.plot_model(
                    model,
                    plot=name,
                    save=str(work_dir),
                    verbose=False,
                    plot_kwargs=plot_kwargs(exp, name),
                )
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


# Plots that label the classes: PyCaret draws them on the label-encoded target (0, 1, 2...),
# so they get the class names to print instead.
CLASS_NAMED_PLOTS = ("confusion_matrix", "class_report", "error")


def class_names(exp: Any) -> list[str] | None:
    """The target's class names in the label encoder's order (0, 1, 2...), or None when the
    pipeline has no label encoder (the labels are already what the plot prints)."""
    from pycaret.utils.generic import get_label_encoder

    encoder = get_label_encoder(getattr(exp, "pipeline", None))
    if encoder is None:
        return None
    return [str(to_jsonable(c)) for c in encoder.classes_]


def plot_kwargs(exp: Any, name: str) -> dict[str, Any] | None:
    """What plot_model gets as `plot_kwargs` for plot `name`: the class names, where it
    labels classes."""
    if name not in CLASS_NAMED_PLOTS:
        return None
    try:
        names = class_names(exp)
    except Exception:  # a pipeline without steps: PyCaret's own labels then
        return None
    return {"classes": names} if names else None


def tuning_trials(tuner: Any, metric: str) -> list[dict[str, Any]]:
    """Each tuning trial's mean cross-validated score on `metric`, in trial order, from the
    search's cv_results_. sklearn negates a lower-is-better score; it is turned back here."""
    from engine.metrics import higher_is_better

    results = getattr(tuner, "cv_results_", None) or {}
    scores = list(results.get("mean_test_score", []))
    flip = not higher_is_better(metric) and all(
        isinstance(s, int | float) and s <= 0 for s in scores if s == s
    )
    trials = []
    for i, score in enumerate(scores):
        value = to_jsonable(score)
        finite = isinstance(value, int | float) and math.isfinite(value)
        trials.append({"trial": i + 1, "score": (-value if flip else value) if finite else None})
    return trials


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
