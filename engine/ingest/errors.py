"""The one exception ingestion raises, carrying an HTTP status and a machine code."""

from __future__ import annotations


class IngestError(Exception):
    """A file that cannot become a dataset, with a message meant for the person who uploaded it."""

    def __init__(self, message: str, *, status: int = 422, code: str = "invalid_file"):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code

    def __repr__(self) -> str:
        return f"IngestError({self.message!r}, status={self.status}, code={self.code!r})"


def format_size(n_bytes: int) -> str:
    """Sizes in binary units, the ones upload limits are usually set in: "250.3 MB"."""
    for unit, scale in (("GB", 2**30), ("MB", 2**20), ("KB", 2**10)):
        if n_bytes >= scale:
            text = f"{n_bytes / scale:.1f}"
            return f"{text.removesuffix('.0')} {unit}"
    return f"{n_bytes} bytes"


def quote_names(names: list[str], limit: int = 10) -> str:
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
