"""The one exception ingestion raises: the studio's error, for a file that cannot be a dataset."""

from __future__ import annotations

from engine.errors import StudioError


class IngestError(StudioError):
    """A file that cannot become a dataset, with a message meant for the person who uploaded it."""

    status = 422
    code = "invalid_file"


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
