"""Run services without a worker: submit, dispatch, cancel, the claim, the reaper, lost workers."""

from datetime import timedelta

import pytest
from billiard.exceptions import TimeLimitExceeded, WorkerLostError
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from kombu.exceptions import OperationalError

from accounts.models import AuditEvent, Role
from accounts.tests.factories import add_member, workspace_of
from engine.errors import Conflict, InvalidInput
from engine.models import Experiment, Run, RunEvent
from engine.services import execution
from engine.services import runs as services
from engine.signals import run_task_failed
from engine.tasks import run_execute_task
from engine.tests.factories import make_dataset, make_project

pytestmark = pytest.mark.django_db

COMPARE = {"kind": "compare", "include": ["lr", "dt", "nb"], "fold": 3}


@pytest.fixture
def experiment(alice) -> Experiment:
    # A small frame is enough: nothing here trains a model.
    import pandas as pd

    frame = pd.DataFrame({"x": range(40), "y": [0, 1] * 20})
    dataset = make_dataset(make_project(alice), frame)
    return Experiment.objects.create(
        project=dataset.project, dataset=dataset, name="e", task="classification", target="y"
    )


@pytest.fixture
def published(monkeypatch):
    """Record what would be published instead of talking to the broker."""
    sent = []
    monkeypatch.setattr(
        run_execute_task, "apply_async", lambda args, task_id: sent.append((args, task_id))
    )
    return sent


def running_run(experiment, **fields) -> Run:
    now = timezone.now()
    defaults = {"status": "running", "started_at": now, "heartbeat_at": now}
    return Run.objects.create(experiment=experiment, plan=COMPARE, **{**defaults, **fields})


def test_submit_queues_the_run_audits_it_and_publishes_on_commit(
    alice, experiment, published, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        run = services.run_submit(experiment=experiment, plan=COMPARE, user=alice)
    run.refresh_from_db()  # the test's transaction commits only when the block above exits
    assert run.status == "queued"
    assert run.plan == {**COMPARE, "n_select": 1}
    assert published == [([run.pk], run.celery_task_id)]
    assert run.dispatched_at is not None and run.dispatch_error == ""
    audit = AuditEvent.objects.get(action="run.submitted")
    assert (audit.actor, audit.target_id) == (alice, str(run.pk))


def test_nothing_is_published_before_the_transaction_commits(
    alice, experiment, published, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = services.run_submit(experiment=experiment, plan=COMPARE, user=alice)
    assert published == [] and len(callbacks) == 1
    assert Run.objects.get(pk=run.pk).dispatched_at is None


def test_a_bad_plan_is_refused_before_anything_is_written(alice, experiment):
    with pytest.raises(InvalidInput):
        services.run_submit(
            experiment=experiment, plan={"kind": "compare", "include": "lr"}, user=alice
        )
    with pytest.raises(InvalidInput):
        services.run_submit(experiment=experiment, plan={"kind": "train"}, user=alice)
    assert not Run.objects.exists()


def test_a_viewer_cannot_submit(alice, bob, experiment):
    add_member(workspace_of(alice), bob, Role.VIEWER)
    with pytest.raises(PermissionDenied):
        services.run_submit(experiment=experiment, plan=COMPARE, user=bob)
    assert not Run.objects.exists()


def test_an_unreachable_broker_leaves_the_run_queued_and_redispatch_sends_it_later(
    alice, experiment, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(args, task_id):
        raise OperationalError("Error 111 connecting to redis://:secret@10.0.0.9:6379.")

    monkeypatch.setattr(run_execute_task, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        run = services.run_submit(experiment=experiment, plan=COMPARE, user=alice)
    run.refresh_from_db()
    assert (run.status, run.dispatched_at) == ("queued", None)
    assert "could not be reached" in run.dispatch_error
    assert "secret" not in run.dispatch_error
    assert services.runs_redispatch() == 0  # still down: nothing sent, nothing lost

    sent = []
    monkeypatch.setattr(run_execute_task, "apply_async", lambda args, task_id: sent.append(args))
    assert services.runs_redispatch() == 1
    run.refresh_from_db()
    assert sent == [[run.pk]] and run.dispatched_at is not None and run.dispatch_error == ""
    assert services.runs_redispatch() == 0  # dispatched runs are not sent twice


def test_a_cancelled_queued_run_never_starts(alice, experiment):
    run = Run.objects.create(experiment=experiment, plan=COMPARE)
    run = services.run_cancel(run=run, user=alice)
    assert run.status == "cancelled" and run.finished_at is not None
    assert execution.run_execute(run_id=run.pk) == "skipped"
    run.refresh_from_db()
    assert run.status == "cancelled" and run.started_at is None
    assert AuditEvent.objects.filter(action="run.cancelled").count() == 1


def test_cancelling_a_running_run_asks_its_job_to_stop(alice, experiment):
    run = services.run_cancel(run=running_run(experiment), user=alice)
    assert run.status == "running" and run.cancel_requested


@pytest.mark.parametrize("status", ["succeeded", "failed", "cancelled"])
def test_a_finished_run_cannot_be_cancelled(alice, experiment, status):
    run = Run.objects.create(experiment=experiment, plan=COMPARE, status=status)
    with pytest.raises(Conflict, match=status):
        services.run_cancel(run=run, user=alice)


def test_the_claim_lets_only_one_delivery_run(experiment):
    run = running_run(experiment, worker_pid=4242)
    assert execution.run_execute(run_id=run.pk, celery_task_id="second") == "skipped"
    run.refresh_from_db()
    assert (run.status, run.worker_pid) == ("running", 4242)


def test_rerun_submits_the_same_plan_again(alice, experiment):
    first = Run.objects.create(experiment=experiment, plan={**COMPARE, "n_select": 1})
    second = services.run_rerun(run=first, user=alice)
    assert second.pk != first.pk and second.plan == first.plan and second.status == "queued"


def test_events_take_increasing_seqs_even_when_another_writer_got_there_first(experiment):
    run = running_run(experiment)
    sink = execution.RunEventSink(run.pk)
    sink.event("info", "setup started", {"rows": 40})
    services.run_event_append(run_id=run.pk, level="warning", message="from elsewhere")
    sink.event("info", "setup done")
    sink.progress(2, 5)
    assert list(RunEvent.objects.filter(run=run).values_list("seq", "message")) == [
        (1, "setup started"),
        (2, "from elsewhere"),
        (3, "setup done"),
    ]
    run.refresh_from_db()
    assert (run.progress_done, run.progress_total) == (2, 5)


def test_the_reaper_fails_runs_whose_heartbeat_went_stale(experiment):
    long_ago = timezone.now() - timedelta(seconds=300)
    stale = running_run(experiment, heartbeat_at=long_ago)
    never_beat = running_run(experiment, heartbeat_at=None, started_at=long_ago)
    fresh = running_run(experiment)
    cancelling = running_run(experiment, heartbeat_at=long_ago, cancel_requested=True)

    assert services.runs_reap() == 3
    for run in (stale, never_beat):
        run.refresh_from_db()
        assert (run.status, run.error_category) == ("failed", "ENGINE")
        assert run.error_message.startswith("worker lost")
        assert run.events.filter(level="error", message__startswith="worker lost").exists()
    fresh.refresh_from_db()
    cancelling.refresh_from_db()
    assert fresh.status == "running" and cancelling.status == "cancelled"


def test_the_reaper_threshold_is_a_setting(experiment, settings):
    run = running_run(experiment, heartbeat_at=timezone.now() - timedelta(seconds=5))
    assert services.runs_reap() == 0
    settings.STUDIO_REAPER_STALE_S = 2
    assert services.runs_reap() == 1
    run.refresh_from_db()
    assert run.status == "failed"


@pytest.mark.parametrize(
    ("exception", "reason"),
    [
        (WorkerLostError("Worker exited prematurely: signal 9 (SIGKILL) Job: 3."), "worker lost"),
        (TimeLimitExceeded(3660), "time limit"),
    ],
)
def test_a_lost_pool_child_or_a_hard_time_limit_fails_the_run(experiment, exception, reason):
    run = running_run(experiment)
    run_task_failed(sender=run_execute_task, exception=exception, args=[run.pk], kwargs={})
    run.refresh_from_db()
    assert (run.status, run.error_category) == ("failed", "ENGINE")
    assert run.error_message.startswith(reason)
    if isinstance(exception, WorkerLostError):
        assert "SIGKILL" in run.error_message


def test_a_lost_worker_does_not_touch_a_run_that_already_finished(experiment):
    run = Run.objects.create(experiment=experiment, plan=COMPARE, status="succeeded")
    lost = WorkerLostError("Worker exited prematurely: exitcode 0 Job: 1.")
    run_task_failed(sender=run_execute_task, exception=lost, args=[run.pk], kwargs={})
    run.refresh_from_db()
    assert run.status == "succeeded" and run.error_message == ""


def test_seed_demo_enqueues_its_compare_runs_once(
    monkeypatch, published, django_capture_on_commit_callbacks
):
    import io

    from django.core.management import call_command

    monkeypatch.setenv("STUDIO_DEMO_PASSWORD", "a-demo-password-for-tests")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", "--no-train", stdout=io.StringIO())
        call_command("seed_demo", "--no-train", stdout=io.StringIO())
    run, series = Run.objects.order_by("pk")
    assert run.plan["kind"] == "compare" and run.status == "queued"
    assert run.experiment.target == "target" and run.created_by.username == "demo"
    assert series.experiment.task == "time_series" and series.status == "queued"
    assert published == [([r.pk], r.celery_task_id) for r in Run.objects.order_by("pk")]


@pytest.fixture
def fake_runner(monkeypatch):
    """Replace the PyCaret runner; the run's claim, events and recording stay real."""
    import engine.runner

    def install(behaviour):
        def execute_plan(*, sink, **kwargs):
            sink.event("info", "setup started")
            return behaviour()

        monkeypatch.setattr(engine.runner, "execute_plan", execute_plan)

    return install


def _raise(exc):
    def behaviour():
        raise exc

    return behaviour


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("exc", "category", "error_type", "message"),
    [
        pytest.param(
            "soft-limit", "ENGINE", "SoftTimeLimitExceeded", "time limit", id="soft-time-limit"
        ),
        pytest.param(
            RuntimeError("segfault-ish"), "ENGINE", "RuntimeError", "segfault-ish", id="other"
        ),
    ],
)
def test_execute_records_a_categorised_failure_and_keeps_the_events(
    alice, fake_runner, exc, category, error_type, message
):
    import pandas as pd
    from celery.exceptions import SoftTimeLimitExceeded

    dataset = make_dataset(make_project(alice), pd.DataFrame({"x": range(40), "y": [0, 1] * 20}))
    experiment = Experiment.objects.create(
        project=dataset.project, dataset=dataset, name="e", task="classification", target="y"
    )
    run = Run.objects.create(experiment=experiment, plan=COMPARE)
    fake_runner(_raise(SoftTimeLimitExceeded() if exc == "soft-limit" else exc))

    assert execution.run_execute(run_id=run.pk, celery_task_id="t-1") == "failed"
    run.refresh_from_db()
    assert (run.status, run.error_category, run.error_type) == ("failed", category, error_type)
    assert run.error_message.startswith(message) and run.error_traceback
    assert run.celery_task_id == "t-1" and run.finished_at is not None
    assert list(run.events.values_list("message", flat=True))[0] == "setup started"
