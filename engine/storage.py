"""Where the engine keeps its files: server-generated names in Django's default storage.

Every dataset (original and Parquet copy), pipeline, plot and batch file is read and written
through `django.core.files.storage.storages["default"]`: a FileSystemStorage under MEDIA_ROOT
by default, S3 (or any S3-compatible store) with STUDIO_STORAGE_URL. Rows store the storage
name ("runs/12/pipeline.pkl"), checked here so a stored name can never leave its own folder.

PyCaret and pyarrow need local files: they work in a local temporary folder (`work_dir`), whose
files are then saved to the storage (`save_file`, `save_folder`); a read that needs a path takes
a `local_copy`, which is the real file itself on a local storage and a temporary download
otherwise.
"""

from __future__ import annotations

import contextlib
import logging
import posixpath
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages

from engine.errors import StudioError

logger = logging.getLogger(__name__)

RUNS_DIR = "runs"
BATCH_DIR = "batch"
DATASETS_DIR = "datasets"
TOP_LEVEL = (RUNS_DIR, BATCH_DIR, DATASETS_DIR)


class StorageUnavailable(StudioError):
    """The storage could not be read or written (a bucket out of reach, a full disk)."""

    status = 503
    code = "storage_unavailable"


def _backend_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [OSError]
    try:
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:  # local files only
        return tuple(errors)
    return (*errors, BotoCoreError, ClientError)


_BACKEND_ERRORS = _backend_errors()


@contextlib.contextmanager
def _reaching(name: str) -> Iterator[None]:
    """Turn the backend's failures into StorageUnavailable; a missing file stays
    FileNotFoundError."""
    try:
        yield
    except FileNotFoundError:
        raise
    except _BACKEND_ERRORS as exc:
        logger.warning("storage: %s failed: %s: %s", name, type(exc).__name__, exc)
        raise StorageUnavailable(
            "The studio's file storage could not be reached; try again in a moment."
        ) from exc


def artifact_storage() -> Storage:
    """The storage that holds the engine's files (looked up on each call, so a test's settings
    override applies)."""
    return storages["default"]


def check_name(name: str) -> str:
    """`name` if it is a relative storage name that stays inside the storage; ValueError if not."""
    text = str(name or "").replace("\\", "/")
    cleaned = posixpath.normpath(text) if text else ""
    if (
        not cleaned
        or cleaned in (".", "..")
        or cleaned.startswith(("/", "../"))
        or "\x00" in cleaned
        or cleaned != text.rstrip("/")
    ):
        raise ValueError(f"{name!r} is not a storage name of the engine's own")
    return cleaned


def run_prefix(run_id: int) -> str:
    """The folder of a run's plots and pipeline; names are server-generated."""
    return f"{RUNS_DIR}/{int(run_id)}"


def run_file(run_id: int, filename: str) -> str:
    """The storage name of one file the runner wrote for a run."""
    if not filename or posixpath.basename(filename) != filename or filename in (".", ".."):
        raise ValueError(f"the runner returned a path, not a file name: {filename!r}")
    return f"{run_prefix(run_id)}/{filename}"


def batch_prefix(deployment_id: int) -> str:
    """Where a deployment's batch-scoring inputs and outputs live."""
    return f"{BATCH_DIR}/{int(deployment_id)}"


def dataset_prefix(dataset) -> str | None:
    """The folder that holds one dataset's original and Parquet files (None if it has none)."""
    try:
        return posixpath.dirname(check_name(dataset.original_path)) or None
    except ValueError:
        return None


# Reads.


def exists(name: str) -> bool:
    name = check_name(name)
    with _reaching(name):
        return artifact_storage().exists(name)


def open_file(name: str) -> File:
    """The stored file, open for reading in binary; FileNotFoundError when it is not there."""
    # FileSystemStorage and S3Storage both raise FileNotFoundError for a missing name (S3 on
    # the HEAD request it makes when the file is opened, before any byte is streamed).
    name = check_name(name)
    with _reaching(name):
        return artifact_storage().open(name, "rb")


def read_bytes(name: str) -> bytes:
    with open_file(name) as handle, _reaching(name):
        return handle.read()


def _local_path(storage: Storage, name: str) -> Path | None:
    """The real path of `name` on a storage that keeps files on this machine, else None."""
    try:
        return Path(storage.path(name))
    except NotImplementedError:
        return None


@contextlib.contextmanager
def local_copy(name: str) -> Iterator[Path]:
    """A local path holding the stored file's bytes, for the readers that need a path (pyarrow,
    pandas, the sniffer). On a local storage that is the file itself, without copying; else a
    temporary download, removed afterwards. FileNotFoundError when it is not stored."""
    name = check_name(name)
    storage = artifact_storage()
    path = _local_path(storage, name)
    if path is not None:
        if not path.is_file():
            raise FileNotFoundError(name)
        yield path
        return
    with work_dir(prefix="fetch-") as folder:
        target = folder / posixpath.basename(name)
        with open_file(name) as source, target.open("wb") as out, _reaching(name):
            shutil.copyfileobj(source, out, length=1024 * 1024)
        yield target


# Writes.


class _LocalFile(File):
    """A local file offered to the storage as movable: a FileSystemStorage moves it into place
    instead of copying it; any other storage streams it."""

    def __init__(self, path: Path):
        super().__init__(path.open("rb"), name=path.name)
        self._path = path

    def temporary_file_path(self) -> str:
        return str(self._path)


def save_file(name: str, local_path: Path, *, move: bool = False) -> str:
    """Store a copy of the local file under `name`, replacing what was there; returns the name.
    With `move`, a local storage may move the file into place instead (it is gone after)."""
    name = check_name(name)
    local_path = Path(local_path)
    content = _LocalFile(local_path) if move else File(local_path.open("rb"), name=local_path.name)
    try:
        return _save(name, content)
    finally:
        content.close()


def save_bytes(name: str, data: bytes) -> str:
    """Store `data` under `name`, replacing what was there; returns the name."""
    name = check_name(name)
    return _save(name, ContentFile(data, name=posixpath.basename(name)))


def _save(name: str, content: File) -> str:
    """Save under exactly `name`: a storage that keeps old files (FileSystemStorage by default)
    has the old one deleted first; one that would rename the file is an error."""
    storage = artifact_storage()
    with _reaching(name):
        if not getattr(storage, "file_overwrite", False) and storage.exists(name):
            storage.delete(name)
        saved = storage.save(name, content)
        if saved != name:
            storage.delete(saved)
            raise RuntimeError(f"the storage stored {name!r} as {saved!r}")
    return saved


def save_folder(prefix: str, folder: Path, *, move: bool = False) -> list[str]:
    """Store every file under the local `folder` below `prefix`; returns the stored names."""
    prefix = check_name(prefix)
    names = []
    for path in sorted(Path(folder).rglob("*")):
        if path.is_file():
            name = f"{prefix}/{path.relative_to(folder).as_posix()}"
            names.append(save_file(name, path, move=move))
    return names


@contextlib.contextmanager
def work_dir(prefix: str = "studio-") -> Iterator[Path]:
    """A private local temporary folder (under TMPDIR), removed afterwards whatever happens."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# Deletes.


def _safe_prefix(prefix: str) -> str:
    """A folder of the engine's own, at least two levels deep below one of its top-level
    folders: never the storage's root nor a top-level folder."""
    prefix = check_name(prefix)
    parts = prefix.split("/")
    if len(parts) < 2 or parts[0] not in TOP_LEVEL:
        raise ValueError(f"{prefix!r} is not a folder of one object")
    return prefix


def delete_prefix(prefix: str) -> None:
    """Delete every stored file below `prefix` (a folder of one dataset, run or deployment)."""
    prefix = _safe_prefix(prefix)
    storage = artifact_storage()
    path = _local_path(storage, prefix)
    if path is not None:
        root = Path(storage.location).resolve()
        if path.resolve().is_relative_to(root) and path.resolve() != root:
            shutil.rmtree(path, ignore_errors=True)
        return
    for name in _walk(storage, prefix):
        storage.delete(name)


def _walk(storage: Storage, prefix: str) -> list[str]:
    folders, files = storage.listdir(prefix)
    join = (lambda name: f"{prefix}/{name}") if prefix else (lambda name: name)
    names = [join(name) for name in files]
    for folder in folders:
        names += _walk(storage, join(folder))
    return names


def delete_prefixes(prefixes: Iterable[str | None]) -> None:
    """Delete the folders of objects whose rows are gone (called once that deletion committed)
    or of work that failed. Never raises: a folder that is not one object's is left alone, and a
    storage that cannot be reached is logged, since the rows' fate is already decided."""
    for prefix in prefixes:
        if not prefix:
            continue
        try:
            delete_prefix(prefix)
        except ValueError:
            continue
        except Exception:
            logger.warning("could not delete the stored files below %s", prefix, exc_info=True)


def list_names(prefix: str = "") -> list[str]:
    """Every stored name below `prefix` ("" for all): what a test or a check looks at."""
    prefix = check_name(prefix) if prefix else ""
    try:
        return sorted(_walk(artifact_storage(), prefix))
    except FileNotFoundError:  # a local folder that was never made
        return []
