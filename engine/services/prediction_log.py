"""The log of predict requests and the sample of their inputs that the drift report reads.

By default each process buffers its entries and one background thread writes them in one
transaction every STUDIO_PREDICTION_LOG_FLUSH_S seconds, or as soon as the buffer holds
LOG_MAX_BUFFERED requests: the request thread only appends to a list. Nothing buffered is lost
on a clean exit: gunicorn's `worker_exit` hook (gunicorn.conf.py) and an `atexit` handler stop
the thread, wait for a write in progress and write what is left. A process killed outright
(SIGKILL, out of memory) loses at most one interval. With the setting at 0, each request's log
is one transaction, written as its response goes out.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import close_old_connections, connections, router, transaction

from engine import serving
from engine.models import PredictionRequest, PredictionSample

logger = logging.getLogger(__name__)

SAMPLES_KEPT = 10_000
TRIM_AFTER_ROWS = 1_000  # rows written by this process since its last trim
LOG_MAX_BUFFERED = 500  # requests: the thread is woken to write them at once
# Past this many buffered requests (the writer is failing or far behind) a request writes the
# buffer itself rather than let it grow without bound.
LOG_HARD_LIMIT = 4 * LOG_MAX_BUFFERED
SHUTDOWN_JOIN_S = 30


@dataclass
class LogEntry:
    deployment_id: int
    created_at: datetime
    n_rows: int
    horizon: int | None
    latency_ms: float
    status: int
    prepared: serving.PreparedRows | None
    predictions: list[dict] | None
    indices: list[int]
    source: str = "api"


class PredictionLog:
    """Writes request logs and input samples, in batches off the request thread by default."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[LogEntry] = []
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._atexit_registered = False
        self._rows_since_trim: dict[int, int] = {}

    @property
    def interval(self) -> float:
        return float(settings.STUDIO_PREDICTION_LOG_FLUSH_S)

    def add(self, entry: LogEntry) -> None:
        if self.interval <= 0 or self._stop.is_set():
            self.write([entry])
            return
        with self._lock:
            self._entries.append(entry)
            pending = len(self._entries)
            running = self._ensure_thread()
        if not running or pending >= LOG_HARD_LIMIT:
            self.flush()
        elif pending >= LOG_MAX_BUFFERED:
            self._wake.set()

    def pending(self) -> int:
        with self._lock:
            return len(self._entries)

    def flush(self) -> int:
        """Write everything buffered now, on the calling thread; the number of requests."""
        with self._lock:
            entries, self._entries = self._entries, []
        if entries:
            self.write(entries)
        return len(entries)

    def discard(self) -> None:
        with self._lock:
            self._entries = []

    def shutdown(self) -> int:
        """Stop the writer thread (letting a write in progress finish) and write what is left.

        Called on a clean exit; entries added afterwards are written at once."""
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread.is_alive() and self._pid == os.getpid():
            thread.join(timeout=SHUTDOWN_JOIN_S)
        try:
            return self.flush()
        finally:
            connections.close_all()

    def _ensure_thread(self) -> bool:
        """Start the writer thread in this process if it is not running (called under the
        lock). False if no thread can be started (the interpreter is shutting down)."""
        if self._thread is not None and self._thread.is_alive() and self._pid == os.getpid():
            return True
        if not self._atexit_registered:
            atexit.register(self.shutdown)
            self._atexit_registered = True
        self._pid = os.getpid()
        self._wake.clear()
        thread = threading.Thread(target=self._run, name="prediction-log", daemon=True)
        try:
            thread.start()
        except RuntimeError:
            self._thread = None
            return False
        self._thread = thread
        return True

    def _run(self) -> None:
        last = time.monotonic()
        while not self._stop.is_set():
            interval = self.interval
            # Short naps, so a changed interval takes effect soon; woken early when full.
            woken = self._wake.wait(timeout=min(max(interval, 0.05), 1.0))
            self._wake.clear()
            if self._stop.is_set():
                break  # shutdown() writes what is left
            if not woken and interval > 0 and time.monotonic() - last < interval:
                continue
            last = time.monotonic()
            # This thread's own connection is kept between writes (a new one every second
            # cost a PostgreSQL backend each time), and dropped as a request's would be: when
            # broken, or older than CONN_MAX_AGE.
            close_old_connections()
            self._flush_logged()
            if self.interval <= 0:  # buffering was switched off: nothing more will arrive
                with self._lock:
                    # Let the next add() start a thread at once, rather than count on this
                    # one, which is on its way out; what arrived meanwhile is written here.
                    if self._thread is threading.current_thread():
                        self._thread = None
                self._flush_logged()
                break
        connections.close_all()

    def _flush_logged(self) -> None:
        try:
            self.flush()
        except Exception:
            logger.exception("could not write the prediction log")

    def write(self, entries: list[LogEntry]) -> None:
        """Write `entries` now, in one transaction, on the calling thread."""
        written: dict[int, int] = {}
        try:
            with transaction.atomic():
                insert_rows(
                    PredictionRequest,
                    REQUEST_FIELDS,
                    (
                        (
                            e.deployment_id,
                            e.created_at,
                            e.n_rows,
                            e.horizon,
                            e.latency_ms,
                            e.status,
                            e.source,
                        )
                        for e in entries
                    ),
                )
                samples = []
                for e in entries:
                    if not e.indices:
                        continue
                    records = e.prepared.records(e.indices)
                    samples.extend(
                        (e.deployment_id, e.created_at, record, _logged(e.predictions[i]))
                        for i, record in zip(e.indices, records, strict=True)
                    )
                    written[e.deployment_id] = written.get(e.deployment_id, 0) + len(records)
                insert_rows(PredictionSample, SAMPLE_FIELDS, samples)
        except Exception:  # the log must never cost a caller its prediction
            logger.exception("could not log %d prediction requests", len(entries))
            return
        for deployment_id, n in written.items():
            total = self._rows_since_trim.get(deployment_id, 0) + n
            if total >= TRIM_AFTER_ROWS:
                samples_trim(deployment_id=deployment_id)
                total = 0
            self._rows_since_trim[deployment_id] = total


prediction_log = PredictionLog()

REQUEST_FIELDS = (
    "deployment_id",
    "created_at",
    "n_rows",
    "horizon",
    "latency_ms",
    "status_code",
    "source",
)
SAMPLE_FIELDS = ("deployment_id", "created_at", "inputs", "prediction")


def insert_rows(model, field_names: tuple[str, ...], rows) -> None:
    """Insert `rows` (tuples of `field_names`' values) into `model`'s table.

    On PostgreSQL with COPY: Django's bulk_create sends each column as an array, and psycopg
    escapes every JSON sample inside those arrays in Python (`re.sub` per element), which made
    the writer thread, sharing the web process's GIL with the requests, spend 2.6 ms of CPU per
    100-row request; COPY takes 1.0 ms (bench/README.md, "Where a predict request's time
    goes"). Elsewhere (SQLite, or PostgreSQL through psycopg2) with bulk_create. Values go
    through each field's get_db_prep_value either way, as the ORM would send them.
    """
    connection = connections[router.db_for_write(model)]
    fields = [model._meta.get_field(name) for name in field_names]
    copies = connection.vendor == "postgresql" and connection.Database.__name__ == "psycopg"
    if not copies:
        model.objects.bulk_create(
            (model(**{f.attname: v for f, v in zip(fields, row, strict=True)}) for row in rows),
            batch_size=1000,
        )
        return
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    statement = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(
                [f.get_db_prep_value(v, connection) for f, v in zip(fields, row, strict=True)]
            )


def _logged(prediction: dict) -> dict:
    """A prediction as the sample keeps it: without the per-class probabilities."""
    return {k: v for k, v in prediction.items() if k != "probabilities"}


def samples_trim(*, deployment_id: int | None = None, keep: int = SAMPLES_KEPT) -> int:
    """Keep the newest `keep` samples per deployment (all deployments by default)."""
    if deployment_id is None:
        ids = list(
            PredictionSample.objects.order_by().values_list("deployment_id", flat=True).distinct()
        )
    else:
        ids = [deployment_id]
    deleted = 0
    for dep_id in ids:
        boundary = list(
            PredictionSample.objects.filter(deployment_id=dep_id)
            .order_by("-id")
            .values_list("id", flat=True)[keep : keep + 1]
        )
        if boundary:
            count, _ = PredictionSample.objects.filter(
                deployment_id=dep_id, id__lte=boundary[0]
            ).delete()
            deleted += count
    return deleted
