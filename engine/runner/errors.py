"""Run failures and their categories: DATA (the dataset), CONFIG (the plan or options), ENGINE."""

from __future__ import annotations

import linecache
import traceback as tb_module
from pathlib import Path

DATA = "DATA"
CONFIG = "CONFIG"
ENGINE = "ENGINE"
CATEGORIES = (DATA, CONFIG, ENGINE)


class RunFailure(Exception):
    """A run failed. ``category`` tells the user whether to fix the data, the plan, or us."""

    def __init__(self, category: str, type: str, message: str, traceback: str = "") -> None:
        super().__init__(f"{category}: {message}")
        self.category = category
        self.type = type
        self.message = message
        self.traceback = traceback

    def to_dict(self) -> dict[str, str]:
        return {
            "category": self.category,
            "type": self.type,
            "message": self.message,
            "traceback": self.traceback,
        }


class RunCancelled(BaseException):
    """The sink asked the run to stop.

    A BaseException on purpose: compare_models swallows ``Exception`` from each model, and
    cancellation must get through it.
    """


# Exceptions Celery raises into a task to stop it; they must not be swallowed as model errors.
_INTERRUPTS = {"SoftTimeLimitExceeded", "TimeLimitExceeded", "Terminated"}


def is_interrupt(exc: BaseException) -> bool:
    return any(cls.__name__ in _INTERRUPTS for cls in type(exc).__mro__)


class RunInterrupted(BaseException):
    """Carries an exception through PyCaret's per-model error handling in compare_models.

    Used for interrupts (Celery's soft time limit) and for failures of the runner's own
    bookkeeping (a sink that cannot write); execute_plan unwraps and categorises ``original``.
    """

    def __init__(self, original: BaseException) -> None:
        super().__init__(str(original))
        self.original = original


class DataError(ValueError):
    """The dataset cannot support the run (missing target, one class, bad dtype...)."""


class ConfigError(ValueError):
    """The plan or setup options are wrong for this dataset or task."""


_PYCARET_DIR = None


def _pycaret_dir() -> str | None:
    global _PYCARET_DIR
    if _PYCARET_DIR is None:
        try:
            import pycaret
        except ImportError:  # pragma: no cover - pycaret is a hard dependency of the runner
            return None
        _PYCARET_DIR = str(Path(pycaret.__file__).resolve().parent)
    return _PYCARET_DIR


def _raised_explicitly_by_pycaret(exc: BaseException) -> bool:
    """True when the innermost frame is a ``raise`` statement in PyCaret's own code.

    PyCaret validates its arguments with explicit ``raise ValueError/TypeError``; those are
    configuration mistakes. Errors bubbling up from deeper libraries are not.
    """
    tb = exc.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    filename = str(Path(tb.tb_frame.f_code.co_filename).resolve())
    root = _pycaret_dir()
    if root is None or not filename.startswith(root):
        return False
    line = linecache.getline(tb.tb_frame.f_code.co_filename, tb.tb_lineno).strip()
    return line.startswith("raise")


_DATA_HINTS = (
    "missing values found in the target",
    "duplicate column names",
    "least populated class",
    "input contains nan",
    "could not convert string to float",
)


def categorise(exc: BaseException) -> str:
    if isinstance(exc, RunFailure):
        return exc.category
    if isinstance(exc, DataError):
        return DATA
    if isinstance(exc, ConfigError):
        return CONFIG
    name = type(exc).__name__
    if name == "ValidationError" and type(exc).__module__.startswith("pydantic"):
        return CONFIG
    if isinstance(exc, MemoryError | ImportError):
        return ENGINE
    message = str(exc).lower()
    if isinstance(exc, ValueError | TypeError):
        if any(hint in message for hint in _DATA_HINTS):
            return DATA
        if name == "InvalidParameterError" or "invalidparametererror" in message:
            return CONFIG
        if _raised_explicitly_by_pycaret(exc):
            return CONFIG
    return ENGINE


def failure_from_exception(exc: BaseException) -> RunFailure:
    if isinstance(exc, RunFailure):
        return exc
    text = "".join(tb_module.format_exception(type(exc), exc, exc.__traceback__))
    message = str(exc) or type(exc).__name__
    if isinstance(exc, MemoryError):
        message = "Out of memory while running the plan" + (f": {exc}" if str(exc) else "")
    elif is_interrupt(exc):
        message = f"The run was stopped by the worker ({type(exc).__name__}): time limit reached"
    return RunFailure(categorise(exc), type(exc).__name__, message, text)
