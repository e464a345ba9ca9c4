"""Where the engine keeps its files: server-generated paths under MEDIA_ROOT.

Paths are stored relative to MEDIA_ROOT and resolved here, so a stored path can never point
outside it.
"""

from __future__ import annotations

import shutil
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


def dataset_dir(dataset) -> Path | None:
    """The folder that holds one dataset's original and Parquet files."""
    return media_path(dataset.original_path).parent if dataset.original_path else None


def remove_folders(folders) -> None:
    """Remove whole folders of the engine's own, below its top-level folders; called once the
    deletion of their rows has committed. Never MEDIA_ROOT itself, nor anything outside it."""
    media = Path(settings.MEDIA_ROOT).resolve()
    for folder in folders:
        folder = Path(folder).resolve()
        if folder.is_relative_to(media) and len(folder.relative_to(media).parts) >= 2:
            shutil.rmtree(folder, ignore_errors=True)
