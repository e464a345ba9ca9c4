"""The PyCaret executor: plain Python, no Django. Takes a plan, a DataFrame and a sink.

PyCaret itself is imported lazily inside execute_plan, so importing this package is cheap.
"""

from engine.runner.errors import CATEGORIES, RunCancelled, RunFailure
from engine.runner.events import EventSink, ListSink
from engine.runner.execute import execute_plan, prepare_pycaret_import
from engine.runner.result import RunResult

__all__ = [
    "CATEGORIES",
    "EventSink",
    "ListSink",
    "RunCancelled",
    "RunFailure",
    "RunResult",
    "execute_plan",
    "prepare_pycaret_import",
]
