"""Where the engine keeps its files: server-generated paths under MEDIA_ROOT.

Paths are stored relative to MEDIA_ROOT and resolved here, so a stored path can never point
outside it.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings


def media_path(relative: str) -> Path:
    """An absolute path for a server-generated path stored relative to MEDIA_ROOT."""
    root = Path(settings.MEDIA_ROOT).resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root):
        raise ValueError(f"{relative!r} is outside MEDIA_ROOT")
    return path


def media_relative(path: Path) -> str:
    """The form a path under MEDIA_ROOT is stored in."""
    return str(Path(path).relative_to(Path(settings.MEDIA_ROOT)))


def run_media_dir(run_id: int) -> Path:
    """Where the engine writes a run's plots and pipeline; names are server-generated."""
    return Path(settings.MEDIA_ROOT) / "runs" / str(int(run_id))


def batch_dir(deployment_id: int) -> Path:
    """Where a deployment's batch-scoring inputs and outputs live."""
    return Path(settings.MEDIA_ROOT) / "batch" / str(int(deployment_id))
