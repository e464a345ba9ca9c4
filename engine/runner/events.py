"""The event sink the runner reports through, an in-memory sink for tests, and progress."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from engine.runner.errors import RunCancelled


@runtime_checkable
class EventSink(Protocol):
    """Where a run reports what it is doing.

    ``level`` is "info", "warning" or "error"; ``data`` is JSON-safe. A sink may also
    define ``is_cancelled() -> bool``: the runner polls it between steps and stops with
    ``RunCancelled`` when it returns True.
    """

    def event(self, level: str, message: str, data: dict[str, Any] | None = None) -> None: ...

    def progress(self, done: int, total: int) -> None: ...


@dataclass
class ListSink:
    """Collects events and progress updates in memory."""

    events: list[dict[str, Any]] = field(default_factory=list)
    progress_updates: list[tuple[int, int]] = field(default_factory=list)
    cancel_requested: bool = False

    def event(self, level: str, message: str, data: dict[str, Any] | None = None) -> None:
        self.events.append({"level": level, "message": message, "data": data or {}})

    def progress(self, done: int, total: int) -> None:
        self.progress_updates.append((done, total))

    def is_cancelled(self) -> bool:
        return self.cancel_requested

    def messages(self, level: str | None = None) -> list[str]:
        return [e["message"] for e in self.events if level is None or e["level"] == level]

    def find(self, message: str) -> list[dict[str, Any]]:
        """Events whose message starts with ``message``."""
        return [e for e in self.events if e["message"].startswith(message)]


class Progress:
    """Counts finished steps, reports them to the sink and honours cancellation."""

    def __init__(self, sink: EventSink, total: int) -> None:
        self.sink = sink
        self.done = 0
        self.total = max(total, 1)
        self._report()

    def _report(self) -> None:
        self.sink.progress(self.done, self.total)

    def check_cancelled(self) -> None:
        is_cancelled = getattr(self.sink, "is_cancelled", None)
        if callable(is_cancelled) and is_cancelled():
            raise RunCancelled("run cancelled")

    def set_total(self, total: int) -> None:
        self.total = max(total, self.done, 1)
        self._report()

    def step(self, n: int = 1) -> None:
        self.done = min(self.done + n, self.total)
        self._report()
        self.check_cancelled()

    def advance_to(self, done: int) -> None:
        if done > self.done:
            self.done = min(done, self.total)
            self._report()
        self.check_cancelled()

    def finish(self) -> None:
        self.done = self.total
        self._report()
