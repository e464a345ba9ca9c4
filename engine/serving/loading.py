"""Loading a pipeline: read the artifact's bytes from the storage (engine.storage: local files or
object storage), verify their sha256, unpickle those same bytes, and keep the result in a
per-process LRU cache keyed by the sha256, so a cached pipeline is never fetched again."""

from __future__ import annotations

import hashlib
import io
import logging
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from engine.plans import UNSUPERVISED_TASKS
from engine.serving.errors import ArtifactMismatch, ArtifactMissing

logger = logging.getLogger(__name__)

CACHE_SIZE = int(os.environ.get("STUDIO_SERVING_CACHE_SIZE", "8"))


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


def read_verified(name: str, expected_sha256: str) -> bytes:
    """The stored file's bytes, if their sha256 is the recorded one; these bytes are what loads."""
    from engine import storage

    try:
        data = storage.read_bytes(name)
    except (FileNotFoundError, ValueError) as exc:  # not stored, or not a name of ours
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


def _unpickle(data: bytes, sha256: str, task: str) -> LoadedPipeline:
    from engine.runner import prepare_pycaret_import

    prepare_pycaret_import()
    import joblib

    pipeline = joblib.load(io.BytesIO(data))
    if task == "time_series":  # an sktime forecasting pipeline: no columns, no labels
        return LoadedPipeline(
            sha256=sha256, pipeline=pipeline, columns=[], estimator=pipeline, label_encoder=None
        )
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
        # a supervised pipeline's last name is the target; clustering and anomaly have none
        columns=names if task in UNSUPERVISED_TASKS else names[:-1],
        estimator=estimator,
        label_encoder=get_label_encoder(pipeline),
        probability_threshold=threshold,
    )


def load_pipeline(*, name: str, sha256: str, task: str = "classification") -> LoadedPipeline:
    """The pipeline for `sha256`, from this process's cache or verified and loaded from the
    stored file `name` (a storage name, as Pipeline.artifact_path holds).

    `task` says how to read the unpickled pipeline (its columns, its label encoder)."""
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
            loaded = _unpickle(read_verified(name, sha256), sha256, task)
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


def warm_up(*, name: str, sha256: str, task: str = "classification") -> None:
    try:
        load_pipeline(name=name, sha256=sha256, task=task)
    except Exception:
        logger.warning("warm-up of pipeline %s failed", sha256[:12], exc_info=True)


def warm_up_in_background(*, name: str, sha256: str, task: str = "classification") -> None:
    """Load the pipeline in a thread, so the first prediction does not pay for it."""
    threading.Thread(
        target=warm_up,
        kwargs={"name": name, "sha256": sha256, "task": task},
        name="pipeline-warm-up",
        daemon=True,
    ).start()
