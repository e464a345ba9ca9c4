"""Serving a promoted pipeline: verified loading, a per-process LRU cache, input checks, predict.

No Django here, and no PyCaret import at module level: the web process imports this module
at start-up, and PyCaret (seconds to import) is only pulled in when the first pipeline is
unpickled. A pickle runs code when it loads, so the artifact's bytes are hashed first and
only those same bytes are unpickled: a file whose sha256 differs from the recorded one is
never loaded.

Predictions reproduce PyCaret 3.3.2's `predict_model` step by step (see `predict`), but
transform the rows once and skip its per-call deep copy, metrics and `gc.collect()`.
"""

from engine.serving.errors import (
    ArtifactMismatch,
    ArtifactMissing,
    InputError,
    ServingError,
    TooManyRows,
)
from engine.serving.inputs import PreparedRows, prepare_rows, unseen_categories
from engine.serving.loading import (
    LoadedPipeline,
    cache_clear,
    cached_sha256s,
    load_pipeline,
    read_verified,
    warm_up,
    warm_up_in_background,
)
from engine.serving.predict import forecast, predict, shrink_dtypes

__all__ = [
    "ArtifactMismatch",
    "ArtifactMissing",
    "InputError",
    "LoadedPipeline",
    "PreparedRows",
    "ServingError",
    "TooManyRows",
    "cache_clear",
    "cached_sha256s",
    "forecast",
    "load_pipeline",
    "predict",
    "prepare_rows",
    "read_verified",
    "shrink_dtypes",
    "unseen_categories",
    "warm_up",
    "warm_up_in_background",
]
