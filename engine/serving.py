"""Serving a promoted pipeline: verified loading, a per-process LRU cache, input checks, predict.

No Django here, and no PyCaret import at module level: the web process imports this module
at start-up, and PyCaret (seconds to import) is only pulled in when the first pipeline is
unpickled. A pickle runs code when it loads, so the artifact's bytes are hashed first and
only those same bytes are unpickled: a file whose sha256 differs from the recorded one is
never loaded.

Predictions reproduce PyCaret 3.3.2's `predict_model` step by step (see `predict`), but
transform the rows once and skip its per-call deep copy, metrics and `gc.collect()`.
"""

from __future__ import annotations

import hashlib
import io
import logging
import math
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

CACHE_SIZE = int(os.environ.get("STUDIO_SERVING_CACHE_SIZE", "8"))
MAX_REPORTED_ERRORS = 20


class ServingError(Exception):
    """A request that cannot be served; carries the HTTP status and a machine code."""

    status = 409
    code = "conflict"

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra


class ArtifactMissing(ServingError):
    code = "artifact_missing"


class ArtifactMismatch(ServingError):
    code = "artifact_mismatch"

    def __init__(self, message: str, *, expected: str, actual: str) -> None:
        super().__init__(message)
        self.expected = expected
        self.actual = actual


class InputError(ServingError):
    status = 422
    code = "validation_error"


class TooManyRows(ServingError):
    status = 413
    code = "too_large"


# Loading.


@dataclass
class LoadedPipeline:
    sha256: str
    pipeline: Any
    columns: list[str]
    estimator: Any
    label_encoder: Any
    probability_threshold: float | None = None

    def transform(self, frame):
        """The pipeline's preprocessing, exactly as its own predict() applies it."""
        transformed, _ = self.pipeline._memory_full_transform(
            self.pipeline, frame, None, with_final=False
        )
        return transformed


_cache: OrderedDict[str, LoadedPipeline] = OrderedDict()
_cache_lock = threading.Lock()
_load_locks: dict[str, threading.Lock] = {}


def read_verified(path: Path, expected_sha256: str) -> bytes:
    """The file's bytes, if their sha256 is the recorded one; these bytes are what loads."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError as exc:
        raise ArtifactMissing(
            "The pipeline's artifact file is missing on the server; it cannot be served. "
            "Promote and deploy the run again."
        ) from exc
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected_sha256:
        raise ArtifactMismatch(
            "The pipeline's artifact does not match the sha256 recorded when it was trained, "
            "so it was not loaded (it may have been modified on disk). Promote and deploy "
            "the run again, or restore the original file.",
            expected=expected_sha256,
            actual=actual,
        )
    return data


def _unpickle(data: bytes, sha256: str) -> LoadedPipeline:
    from engine.runner import prepare_pycaret_import

    prepare_pycaret_import()
    import joblib

    pipeline = joblib.load(io.BytesIO(data))
    from pycaret.internal.meta_estimators import (
        CustomProbabilityThresholdClassifier,
        get_estimator_from_meta_estimator,
    )
    from pycaret.utils.generic import get_label_encoder

    estimator = pipeline.steps[-1][-1]
    threshold = None
    if isinstance(estimator, CustomProbabilityThresholdClassifier):
        threshold = estimator.probability_threshold
        estimator = get_estimator_from_meta_estimator(estimator)
    names = list(pipeline.feature_names_in_ or [])
    return LoadedPipeline(
        sha256=sha256,
        pipeline=pipeline,
        columns=names[:-1],  # the last name is the target
        estimator=estimator,
        label_encoder=get_label_encoder(pipeline),
        probability_threshold=threshold,
    )


def load_pipeline(*, path: Path, sha256: str) -> LoadedPipeline:
    """The pipeline for `sha256`, from this process's cache or verified and loaded from `path`."""
    with _cache_lock:
        loaded = _cache.get(sha256)
        if loaded is not None:
            _cache.move_to_end(sha256)
            return loaded
        lock = _load_locks.setdefault(sha256, threading.Lock())
    with lock:  # one load per artifact, however many requests wait for it
        with _cache_lock:
            loaded = _cache.get(sha256)
        if loaded is None:
            loaded = _unpickle(read_verified(path, sha256), sha256)
            with _cache_lock:
                _cache[sha256] = loaded
                _cache.move_to_end(sha256)
                while len(_cache) > max(1, CACHE_SIZE):
                    _cache.popitem(last=False)
    return loaded


def cached_sha256s() -> list[str]:
    with _cache_lock:
        return list(_cache)


def cache_clear() -> None:
    with _cache_lock:
        _cache.clear()


def warm_up(*, path: Path, sha256: str) -> None:
    try:
        load_pipeline(path=path, sha256=sha256)
    except Exception:
        logger.warning("warm-up of pipeline %s failed", sha256[:12], exc_info=True)


def warm_up_in_background(*, path: Path, sha256: str) -> None:
    """Load the pipeline in a thread, so the first prediction does not pay for it."""
    threading.Thread(
        target=warm_up,
        kwargs={"path": path, "sha256": sha256},
        name="pipeline-warm-up",
        daemon=True,
    ).start()


# Input validation.

_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


class _BadValue(Exception):
    pass


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _to_number(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise _BadValue(f"{_describe(value)} is not a number")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            number = float(text)
        except ValueError:
            raise _BadValue(f"{_describe(value)} is not a number") from None
    else:
        raise _BadValue(f"{_describe(value)} is not a number")
    if math.isnan(number):
        return None
    if math.isinf(number):
        raise _BadValue(f"{_describe(value)} is not a finite number")
    return number


def _to_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() else str(value)
    raise _BadValue(f"{_describe(value)} is not a text value")


def _to_bool(value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if not text:
            return None
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise _BadValue(f"{_describe(value)} is not true or false")


def _to_datetime(value: Any):
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    import pandas as pd

    if isinstance(value, bool | list | dict):
        raise _BadValue(f"{_describe(value)} is not a date")
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        raise _BadValue(f"{_describe(value)} is not a date") from None
    if stamp is pd.NaT:
        return None
    return stamp.tz_convert(None) if stamp.tzinfo is not None else stamp


def _converter(feature: dict[str, Any]):
    kind = feature.get("kind", "numeric")
    dtype = str(feature.get("dtype", ""))
    if kind == "datetime" or dtype.startswith("datetime"):
        return _to_datetime
    if kind == "boolean" or dtype == "bool":
        return _to_bool
    if kind == "numeric" or dtype.startswith(("int", "uint", "float", "Int", "UInt", "Float")):
        return _to_number
    return _to_text


def _column_array(values: list[Any], feature: dict[str, Any], converter):
    """A numpy array of the converted values, in the training column's dtype where possible."""
    import numpy as np

    dtype = str(feature.get("dtype", ""))
    if converter is _to_number:
        has_missing = any(v is None for v in values)
        if (
            dtype.lower().startswith(("int", "uint"))
            and not has_missing
            and all(float(v).is_integer() for v in values)
        ):
            return np.array([int(v) for v in values], dtype="int64")
        return np.array([np.nan if v is None else v for v in values], dtype="float64")
    if converter is _to_bool:
        if any(v is None for v in values):
            return np.array(values, dtype=object)
        return np.array(values, dtype=bool)
    if converter is _to_datetime:
        import pandas as pd

        return pd.to_datetime(pd.Series(values, dtype=object)).to_numpy()
    return np.array(values, dtype=object)


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "isoformat"):  # pandas Timestamp
        return value.isoformat()
    return value


@dataclass
class PreparedRows:
    frame: Any  # pandas.DataFrame, columns in the pipeline's order
    ignored_columns: list[str]
    n_rows: int
    _values: dict[str, list[Any]] = field(default_factory=dict, repr=False)

    def records(self, indices) -> list[dict[str, Any]]:
        """JSON-safe rows of the converted inputs, for the prediction log."""
        return [
            {name: _json_value(values[i]) for name, values in self._values.items()} for i in indices
        ]


def prepare_rows(
    rows: Any, schema: list[dict[str, Any]], *, max_rows: int, row_label=None
) -> PreparedRows:
    """Check `rows` ([{column: value}]) against the training `schema` and convert them.

    Missing columns: 422 naming them. Values that cannot be converted: 422 naming the
    column and the row. Extra columns are ignored and reported. More than `max_rows`: 413.
    `row_label(i)` names row i in messages (default `rows[i]`).
    """
    import pandas as pd

    label = row_label or (lambda i: f"rows[{i}]")
    if not isinstance(rows, list):
        raise InputError("`rows` must be a list of objects, one per row.")
    if not rows:
        raise InputError("`rows` is empty: send at least one row.")
    if len(rows) > max_rows:
        raise TooManyRows(
            f"{len(rows)} rows is more than the limit of {max_rows} per request; "
            "split the rows into smaller requests, or use batch scoring.",
            limit=max_rows,
        )
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise InputError(f"{label(i)} must be an object of column: value.")
    names = [f["name"] for f in schema]
    known = set(names)
    missing: dict[str, int] = {}
    extra: set[str] = set()
    for row in rows:
        for name in names:
            if name not in row:
                missing[name] = missing.get(name, 0) + 1
        if len(row) != len(names) or not known.issuperset(row):
            extra.update(key for key in row if key not in known)
    if missing:
        parts = [
            name if count == len(rows) else f"{name} (in {count} of {len(rows)} rows)"
            for name, count in missing.items()
        ]
        raise InputError(
            f"Missing columns: {', '.join(parts)}. Every row needs every feature the pipeline "
            "was trained on (send null for an unknown value).",
            missing_columns=list(missing),
        )
    converted: dict[str, list[Any]] = {}
    arrays: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    for feature in schema:
        name = feature["name"]
        converter = _converter(feature)
        values = []
        for i, row in enumerate(rows):
            try:
                values.append(converter(row[name]))
            except _BadValue as exc:
                values.append(None)
                if len(errors) < MAX_REPORTED_ERRORS:
                    errors.append({"row": i, "column": name, "message": str(exc)})
        converted[name] = values
        if not errors:
            arrays[name] = _column_array(values, feature, converter)
    if errors:
        shown = "; ".join(
            f"{label(e['row'])}, column '{e['column']}': {e['message']}" for e in errors[:5]
        )
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        raise InputError(f"Invalid values: {shown}{more}.", errors=errors)
    frame = pd.DataFrame(arrays, columns=names)
    return PreparedRows(
        frame=frame, ignored_columns=sorted(extra, key=str), n_rows=len(rows), _values=converted
    )


# Prediction.


def _python(value: Any) -> Any:
    item = getattr(value, "item", None)
    return item() if callable(item) else value


def _labels(pred):
    """predict_model casts classification labels to int; only where nothing is lost."""
    import numpy as np

    try:
        as_int = pred.astype(int)
    except (TypeError, ValueError):
        return pred
    try:
        lossless = bool(np.all(as_int == pred))
    except (TypeError, ValueError):
        lossless = False
    return as_int if lossless else pred


_FAST_SHRINK_DTYPES = {"float64", "int64", "object", "bool", "datetime64[ns]"}


def shrink_dtypes(frame):
    """PyCaret's `df_shrink_dtypes`, as its data preparation applies it before predicting.

    The model was fitted on shrunk columns (float64 became float32), so predictions only
    match predict_model's on shrunk input. For the dtypes `prepare_rows` produces this does
    the same in a fraction of the time; anything else goes to PyCaret's own function.
    """
    import numpy as np

    if not all(dtype.name in _FAST_SHRINK_DTYPES for dtype in frame.dtypes):
        from pycaret.utils.generic import df_shrink_dtypes

        return df_shrink_dtypes(frame)
    changes = {}
    for name, dtype in frame.dtypes.items():
        if dtype.name == "object":
            changes[name] = "category"
        elif dtype.name in ("float64", "int64"):
            values = frame[name].to_numpy()
            if dtype.name == "float64":
                values = values[~np.isnan(values)]
            if not len(values):
                continue  # all missing: min() is NaN and no smaller type "fits"
            low, high = values.min(), values.max()
            if dtype.name == "float64":
                limit = np.finfo(np.float32)
                if limit.min <= low and high <= limit.max:
                    changes[name] = np.float32
            else:
                for candidate in (np.int8, np.int32):
                    limit = np.iinfo(candidate)
                    if limit.min <= low and high <= limit.max:
                        changes[name] = candidate
                        break
    return frame.astype(changes) if changes else frame


def predict(loaded: LoadedPipeline, frame, *, task: str) -> list[dict[str, Any]]:
    """Predictions for `frame` equal to PyCaret's `predict_model(pipeline, data=frame)`.

    Same steps as predict_model: shrink dtypes as its data preparation does (float64 to
    float32, text to category), apply the preprocessing, predict with the final
    estimator, undo the label encoding, and take the probability of the predicted class
    as the score. Scores are not rounded (predict_model rounds to 4 decimals).
    """
    import numpy as np

    data = shrink_dtypes(frame[loaded.columns])
    transformed = loaded.transform(data)
    estimator = loaded.estimator
    pred = np.nan_to_num(estimator.predict(transformed))
    pred = np.asarray(loaded.pipeline.inverse_transform(pred))
    if task != "classification":
        return [{"label": v, "value": v} for v in (float(x) for x in pred)]
    proba = estimator.predict_proba(transformed)
    encoder = loaded.label_encoder
    if loaded.probability_threshold is not None and proba.shape[1] == 2:
        pred = (proba[:, 1] >= loaded.probability_threshold).astype(int)
        if encoder is not None:
            pred = encoder.inverse_transform(pred)
    pred = _labels(np.asarray(pred))
    index = encoder.transform(pred) if encoder is not None else pred.astype(int)
    scores = proba[np.arange(len(pred)), index]
    return [
        {"label": _python(label), "score": float(score)}
        for label, score in zip(pred, scores, strict=True)
    ]
