"""The engine's file helpers (engine.storage) on both backends: local files under MEDIA_ROOT
(the embedded default) and S3 through django-storages against a real moto server."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from engine import storage


@pytest.fixture
def bucket(s3_endpoint):
    """The moto bucket, below a prefix of this test's own."""
    return s3_endpoint.at(f"unit-{uuid.uuid4().hex[:8]}")


@pytest.fixture(params=["local", "s3"])
def backend(request, settings, tmp_path):
    """The storage under test; MEDIA_ROOT is a fresh folder either way (S3 must not touch it)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    if request.param == "s3":
        corner = request.getfixturevalue("bucket")
        settings.STORAGES = corner.storages_setting(settings.STORAGES)
    return request.param


def stored_locally(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def local_file(tmp_path, name: str, data: bytes) -> Path:
    path = tmp_path / "work" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_a_saved_file_reads_back_and_lands_where_its_backend_keeps_it(
    backend, settings, tmp_path, request
):
    source = local_file(tmp_path, "pipeline.pkl", b"pickled bytes")
    name = storage.save_file("runs/7/pipeline.pkl", source)
    assert name == "runs/7/pipeline.pkl"
    assert source.read_bytes() == b"pickled bytes"  # copied, not moved, by default
    assert storage.exists(name) and storage.read_bytes(name) == b"pickled bytes"
    with storage.open_file(name) as handle:
        assert handle.read() == b"pickled bytes"
    assert storage.list_names("runs/7") == [name]
    if backend == "local":
        assert stored_locally(settings) == [Path(settings.MEDIA_ROOT) / name]
    else:
        corner = request.getfixturevalue("bucket")
        assert corner.object_keys() == [f"{corner.prefix}/runs/7/pipeline.pkl"]
        assert stored_locally(settings) == []


def test_saving_again_replaces_the_file_under_the_same_name(backend, tmp_path):
    storage.save_bytes("batch/3/in.csv", b"a\n1\n")
    assert storage.save_bytes("batch/3/in.csv", b"a\n2\n") == "batch/3/in.csv"
    assert storage.read_bytes("batch/3/in.csv") == b"a\n2\n"
    assert storage.list_names("batch/3") == ["batch/3/in.csv"]


def test_a_move_takes_the_local_file_on_local_storage_and_uploads_it_on_s3(backend, tmp_path):
    source = local_file(tmp_path, "data.parquet", b"PAR1")
    storage.save_file("datasets/abc/data.parquet", source, move=True)
    assert storage.read_bytes("datasets/abc/data.parquet") == b"PAR1"
    assert source.exists() is (backend == "s3")  # a bucket's upload leaves it to its work_dir


def test_a_local_copy_is_the_file_itself_locally_and_a_removed_download_from_s3(backend, settings):
    storage.save_bytes("datasets/abc/data.parquet", b"PAR1 bytes")
    with storage.local_copy("datasets/abc/data.parquet") as path:
        assert path.read_bytes() == b"PAR1 bytes" and path.name == "data.parquet"
        is_the_stored_file = path == Path(settings.MEDIA_ROOT) / "datasets/abc/data.parquet"
        assert is_the_stored_file is (backend == "local")
    assert path.exists() is (backend == "local")  # the download is gone after the block


def test_a_missing_file_is_file_not_found_for_every_read(backend):
    assert not storage.exists("runs/1/nope.png")
    with pytest.raises(FileNotFoundError):
        storage.open_file("runs/1/nope.png")
    with pytest.raises(FileNotFoundError), storage.local_copy("runs/1/nope.png"):
        pass
    assert storage.list_names("runs/1") == []


@pytest.mark.parametrize(
    "name", ["", ".", "..", "../media.pkl", "/etc/passwd", "runs/../../x", "runs//1", "a/./b"]
)
def test_a_name_that_could_leave_the_storage_is_refused(name):
    with pytest.raises(ValueError):
        storage.check_name(name)
    with pytest.raises(ValueError):
        storage.open_file(name)


def test_delete_prefix_removes_one_objects_folder_and_nothing_beside_it(backend, settings):
    for name in ("runs/1/pipeline.pkl", "runs/1/plots/auc.png", "runs/10/pipeline.pkl"):
        storage.save_bytes(name, b"x")
    storage.save_bytes("batch/1/in.csv", b"a\n")
    storage.delete_prefix("runs/1")
    assert storage.list_names("runs") == ["runs/10/pipeline.pkl"]
    assert storage.list_names("batch") == ["batch/1/in.csv"]
    if backend == "local":
        assert not (Path(settings.MEDIA_ROOT) / "runs/1").exists()


@pytest.mark.parametrize("prefix", ["runs", "datasets", "", "..", "/", "other/1", "runs/../batch"])
def test_delete_prefix_refuses_the_root_a_top_level_folder_and_anything_outside(backend, prefix):
    storage.save_bytes("runs/1/pipeline.pkl", b"x")
    storage.save_bytes("other/1/keep.txt", b"x")
    with pytest.raises(ValueError):
        storage.delete_prefix(prefix)
    storage.delete_prefixes([prefix, None])  # what runs after a commit skips them quietly
    assert storage.list_names() == ["other/1/keep.txt", "runs/1/pipeline.pkl"]


def test_save_folder_stores_a_work_folder_below_a_prefix(backend, tmp_path):
    local_file(tmp_path, "pipeline.pkl", b"p")
    local_file(tmp_path, "plots/auc.png", b"png")
    names = storage.save_folder("runs/5", tmp_path / "work")
    assert names == ["runs/5/pipeline.pkl", "runs/5/plots/auc.png"]
    assert storage.read_bytes("runs/5/plots/auc.png") == b"png"


def test_a_work_dir_is_local_private_and_removed_afterwards(settings):
    with storage.work_dir(prefix="run-1-") as folder:
        (folder / "pipeline.pkl").write_bytes(b"x")
        assert folder.is_dir() and folder.name.startswith("run-1-")
        assert not folder.is_relative_to(Path(settings.MEDIA_ROOT).resolve())
    assert not folder.exists()


def test_a_storage_that_cannot_be_written_is_storage_unavailable_not_an_os_error(
    settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "not-a-folder"
    settings.MEDIA_ROOT.write_bytes(b"a file where the media folder should be")
    with pytest.raises(storage.StorageUnavailable) as caught:
        storage.save_bytes("runs/1/pipeline.pkl", b"x")
    assert (caught.value.status, caught.value.code) == (503, "storage_unavailable")
    with pytest.raises(storage.StorageUnavailable):
        storage.save_file("runs/1/pipeline.pkl", local_file(tmp_path, "p.pkl", b"x"))
    storage.delete_prefixes(["runs/1"])  # cleaning up after a failure never raises
