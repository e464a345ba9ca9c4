"""Training yields the CPU to serving: the Celery pool processes run at STUDIO_WORKER_NICE
(default 10), and STUDIO_RUN_N_JOBS caps the n_jobs a run's setup() gets."""

import os
import time

import pytest
from pycaret.classification import ClassificationExperiment
from sklearn.datasets import load_breast_cancer

from engine.runner import ListSink, execute_plan
from engine.runner.processes import (
    DEFAULT_WORKER_NICE,
    autogroup_nice,
    lower_priority,
    lower_session_priority,
)
from pycaret_studio.tests.support import TEST_ROOT, start_worker, stop_worker

pytestmark = pytest.mark.filterwarnings("ignore")


def own_niceness() -> int:
    return os.getpriority(os.PRIO_PROCESS, 0)


def pool_niceness(worker, expected: int) -> list[int]:
    """The pool processes' niceness, once each has run its init (or a minute has passed)."""
    deadline = time.monotonic() + 60
    while True:
        pids = worker.pool_child_pids()
        values = [os.getpriority(os.PRIO_PROCESS, pid) for pid in pids]
        if (pids and all(v == expected for v in values)) or time.monotonic() > deadline:
            return values


@pytest.mark.django_db(transaction=True)
def test_the_pool_processes_run_at_the_default_niceness(celery_worker):
    expected = max(DEFAULT_WORKER_NICE, own_niceness())
    assert pool_niceness(celery_worker, expected) == [expected]  # --concurrency=1
    assert os.getpriority(os.PRIO_PROCESS, celery_worker.proc.pid) == own_niceness()
    # The worker runs in a session of its own (start_new_session): where the scheduler shares
    # the CPU between sessions first, that session's autogroup is lowered too. The kernel shows
    # no autogroup (None) where it is off; the test's own session may show none while the
    # worker's new one does (a CI runner's first session is the root autogroup).
    pool = celery_worker.pool_child_pids()[0]
    assert autogroup_nice(pool) in (None, expected)


def test_a_session_shared_with_others_is_left_alone(monkeypatch):
    # A pool process whose session leader is not the worker (the web server's shell, say).
    monkeypatch.setattr(os, "getsid", lambda pid: os.getppid() + 1)
    assert lower_session_priority(DEFAULT_WORKER_NICE) is None


@pytest.mark.django_db(transaction=True)
def test_the_setting_sets_the_pool_niceness(django_db_setup, celery_queue):
    expected = max(15, own_niceness())
    worker = start_worker(
        queue=f"{celery_queue}-nice",
        log_path=TEST_ROOT / "worker-nice.log",
        extra_env={"STUDIO_WORKER_NICE": "15", "STUDIO_WORKER_PRELOAD": "0"},
    )
    try:
        assert pool_niceness(worker, expected) == [expected]
        # The pool process logs it just after lowering its niceness: wait for the line.
        deadline = time.monotonic() + 30
        while f"runs at niceness {expected}" not in worker.log():
            assert time.monotonic() < deadline, worker.log()
            time.sleep(0.2)
    finally:
        stop_worker(worker)


def test_lower_priority_never_raises_priority():
    current = own_niceness()
    assert lower_priority(current - 1) == current  # lowering niceness needs root: untouched


def _setup_kwargs_of_a_run(monkeypatch, tmp_path) -> dict:
    seen = {}
    real_setup = ClassificationExperiment.setup

    def spy(self, *args, **kwargs):
        seen["kwargs"] = kwargs
        result = real_setup(self, *args, **kwargs)
        seen["n_jobs_param"] = self.n_jobs_param
        return result

    monkeypatch.setattr(ClassificationExperiment, "setup", spy)
    execute_plan(
        plan={"kind": "create", "model_id": "nb"},
        data=load_breast_cancer(as_frame=True).frame,
        task="classification",
        target="target",
        setup_options={"fold": 2, "session_id": 1},
        work_dir=tmp_path,
        sink=ListSink(),
    )
    return seen


def test_run_n_jobs_is_passed_to_setup(monkeypatch, tmp_path):
    monkeypatch.setenv("STUDIO_RUN_N_JOBS", "1")
    seen = _setup_kwargs_of_a_run(monkeypatch, tmp_path)
    assert seen["kwargs"]["n_jobs"] == 1 and seen["n_jobs_param"] == 1


def test_without_the_setting_setup_keeps_pycarets_default(monkeypatch, tmp_path):
    monkeypatch.delenv("STUDIO_RUN_N_JOBS", raising=False)
    seen = _setup_kwargs_of_a_run(monkeypatch, tmp_path)
    assert "n_jobs" not in seen["kwargs"] and seen["n_jobs_param"] == -1


def test_a_run_n_jobs_that_is_not_a_number_falls_back_to_pycarets_default(monkeypatch, caplog):
    from engine.runner.processes import run_n_jobs

    monkeypatch.setenv("STUDIO_RUN_N_JOBS", "two")
    assert run_n_jobs() is None
    assert "STUDIO_RUN_N_JOBS='two' is not a whole number" in caplog.text
    monkeypatch.setenv("STUDIO_RUN_N_JOBS", "2")
    assert run_n_jobs() == 2


@pytest.mark.parametrize(
    ("content", "expected"), [("/autogroup-85 nice 7\n", 7), ("", None), ("garbage", None)]
)
def test_the_autogroup_reads_none_where_the_kernel_shows_none(
    tmp_path, monkeypatch, content, expected
):
    # In the root autogroup (a container's or a CI runner's first session) the file is there
    # but empty.
    path = tmp_path / "autogroup"
    path.write_text(content)
    monkeypatch.setattr("engine.runner.processes.autogroup_path", lambda pid="self": str(path))
    assert autogroup_nice() == expected
    monkeypatch.setattr(os, "getsid", lambda pid: os.getppid())
    assert lower_session_priority(DEFAULT_WORKER_NICE) == (
        None if expected is None else max(expected, DEFAULT_WORKER_NICE)
    )
