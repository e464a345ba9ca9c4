"""Process plumbing around PyCaret's parallel work: joblib's worker processes."""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


def end_joblib_workers() -> None:
    """Stop this process's joblib (loky) worker processes, so none outlive it."""
    try:
        from joblib.externals.loky import reusable_executor
    except ImportError:
        return
    executor = reusable_executor._executor
    if executor is None:
        return
    try:
        executor.shutdown(wait=True, kill_workers=True)
    except Exception:
        logger.exception("could not stop joblib's worker processes")
