"""Where a predict request's time goes: the studio's predict path, in process, stage by stage.

Run (PostgreSQL; the database named in --database-url is dropped and created again, so its
name must contain "bench"):

    .venv/bin/python bench/profile_predict.py \
        --database-url postgresql://postgres@127.0.0.1:5432/studio_h6_bench

Not a test: it asserts nothing. It trains, promotes and deploys the same pipeline as
bench/serving.py (breast_cancer, logistic regression), then sends `--requests` predict
requests of 1 row and of 100 rows through the studio's WSGI application in this process
(pycaret_studio.wsgi, as gunicorn serves it: the API key header, the key requests' middleware,
the request log handed to the buffered log by the response's closers), one after another.
Each stage is timed with time.perf_counter by wrapping the function that does it; a stage's
time excludes the stages nested inside it, and what no stage covers is Django's and
django-ninja's dispatch (middleware, routing, the response object).
`--cprofile` prints cProfile's top functions as well (cProfile slows everything down, so
its figures are for finding things, not for the table). `--compare-middleware` also times
key requests through the full middleware against the key requests' handler.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

STAGES = (
    ("auth", "authentication (key lookup, hash check, last-used)"),
    ("lookup", "deployment lookup (scoped by workspace)"),
    ("permission", "permission check (role and key scopes)"),
    ("parse", "request parsing (JSON body into the schema)"),
    ("validate", "row validation (columns, cell conversion)"),
    ("frame", "building the frame"),
    ("pipeline", "the pipeline (cached load, transform, predict_proba)"),
    ("response", "the response (warnings, JSON rendering)"),
    ("log", "the log, on the request (buffered by default: an append)"),
    ("dispatch", "Django and ninja dispatch, middleware (the rest)"),
)

_totals: dict[str, float] = defaultdict(float)
_stack: list[list] = []  # [stage, child time]


def timed(stage: str, func):
    def wrapper(*args, **kwargs):
        _stack.append([stage, 0.0])
        started = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            elapsed = time.perf_counter() - started
            _, children = _stack.pop()
            _totals[stage] += elapsed - children
            if _stack:
                _stack[-1][1] += elapsed

    wrapper.__wrapped__ = func
    return wrapper


def instrument() -> None:
    """Wrap each stage's function where the predict path looks it up."""
    from ninja.operation import Operation

    import engine.api.deployments as api
    import engine.selectors.deployments as selectors
    import engine.services.prediction_log as prediction_log
    import engine.services.predictions as predictions
    import engine.serving as serving
    import engine.serving.inputs as inputs
    from accounts.auth import ApiKeyAuth

    ApiKeyAuth.authenticate = timed("auth", ApiKeyAuth.authenticate)
    api.deployment_get_cached = timed("lookup", api.deployment_get_cached)
    predictions.require = timed("permission", predictions.require)
    selectors.may_see = timed("lookup", selectors.may_see)
    Operation._get_values = timed("parse", Operation._get_values)
    serving.prepare_rows = timed("validate", serving.prepare_rows)
    inputs._column_array = timed("frame", inputs._column_array)
    inputs.build_frame = timed("frame", inputs.build_frame)
    predictions.load_serving_pipeline = timed("pipeline", predictions.load_serving_pipeline)
    serving.predict = timed("pipeline", serving.predict)
    serving.unseen_categories = timed("response", serving.unseen_categories)
    api._then = timed("response", api._then)
    prediction_log.PredictionLog.add = timed("log", prediction_log.PredictionLog.add)
    prediction_log.PredictionLog.write = background_timed(prediction_log.PredictionLog.write)


_background = {"s": 0.0, "writes": 0}


def background_timed(func):
    """The log's writes, which run on the writer thread by default (off the request): timed
    apart from the request's stages, in the thread's CPU time (its wall time would count the
    waits for the GIL that the request thread holds, and for PostgreSQL)."""

    def wrapper(*args, **kwargs):
        started = time.thread_time()
        try:
            return func(*args, **kwargs)
        finally:
            _background["s"] += time.thread_time() - started
            _background["writes"] += 1

    return wrapper


def recreate_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    if "bench" not in name:
        raise SystemExit(f"refusing to drop {name!r}: the name must contain 'bench'")
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def send(app, path: str, body: bytes, token: str) -> int:
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_HOST": "127.0.0.1",
        "HTTP_X_PYCARET_KEY": token,
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    status: list[str] = []
    result = app(environ, lambda s, h, exc_info=None: status.append(s))
    try:
        b"".join(result)
    finally:
        result.close()  # runs the closers: the log, then request_finished
    return int(status[0].split()[0])


def measure(app, path: str, body: bytes, token: str, n: int) -> dict:
    from django.db import connection

    queries = [0]

    def count(execute, sql, params, many, context):
        queries[0] += 1
        return execute(sql, params, many, context)

    from engine.services.prediction_log import prediction_log

    for _ in range(20):  # warm-up: the pipeline cache, connections, the last-used update
        assert send(app, path, body, token) == 200
    prediction_log.flush()
    _totals.clear()
    _background.update(s=0.0, writes=0)
    totals = []
    with connection.execute_wrapper(count):
        for _ in range(n):
            started = time.perf_counter()
            status = send(app, path, body, token)
            totals.append(time.perf_counter() - started)
            assert status == 200, status
    total = sum(totals)
    prediction_log.flush()  # what the writer thread has not written yet, timed with the rest
    stages = dict(_totals)
    stages["dispatch"] = total - sum(stages.values())
    return {
        "ms": {k: 1000 * v / n for k, v in stages.items()},
        "total_ms": 1000 * total / n,
        "queries": queries[0] / n,
        "background_ms": 1000 * _background["s"] / n,
        "background_writes": _background["writes"],
    }


def compare_middleware(app, path: str, body: bytes, token: str, n: int) -> dict:
    """Mean time of a 1-row key request through the full middleware (the handler every other
    request takes) and through the key requests' handler, in alternating blocks of 25."""
    apps = {"stock": app.full, "skipping": app}
    spent = {"stock": 0.0, "skipping": 0.0}
    for _ in range(n // 25):
        for name, handler in apps.items():
            started = time.perf_counter()
            for _ in range(25):
                assert send(handler, path, body, token) == 200
            spent[name] += time.perf_counter() - started
    done = 25 * (n // 25)
    return {"n": done, **{k: 1000 * v / done for k, v in spent.items()}}


def render(results: dict, args) -> str:
    import platform

    lines = [
        f"{args.requests} requests of each size, one after another, in process through "
        f"the studio's WSGI application; PostgreSQL on loopback; {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}; load average "
        f"{os.getloadavg()[0]:.1f} when it ended.",
        "",
        "| stage | 1 row: ms | share | 100 rows: ms | share |",
        "|---|---|---|---|---|",
    ]
    for key, label in STAGES:
        cells = []
        for size in (1, 100):
            r = results[size]
            ms = r["ms"].get(key, 0.0)
            cells += [f"{ms:.2f}", f"{100 * ms / r['total_ms']:.0f}%"]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines.append(
        f"| **total per request** | **{results[1]['total_ms']:.2f}** | 100% | "
        f"**{results[100]['total_ms']:.2f}** | 100% |"
    )
    lines.append("")
    lines.append(
        f"- SQL queries per request on the request thread: {results[1]['queries']:.1f} (1 row), "
        f"{results[100]['queries']:.1f} (100 rows)."
    )
    lines.append(
        "- The log's writes, off the request thread (the writer thread, every "
        f"{results[1]['interval']:g} s): {results[1]['background_ms']:.2f} ms of CPU per "
        f"request at 1 row and {results[100]['background_ms']:.2f} ms at 100 rows "
        f"({results[1]['background_writes']} and {results[100]['background_writes']} "
        "transactions for the requests above)."
    )
    if "middleware" in results:
        m = results["middleware"]
        lines.append(
            f"- Middleware, 1-row key requests, {m['n']} each, interleaved: "
            f"{m['stock']:.2f} ms per request with Django's session, CSRF, authentication and "
            f"messages middleware, {m['skipping']:.2f} ms with them skipped for key requests "
            f"({m['stock'] - m['skipping']:+.2f} ms)."
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("PROFILE_DATABASE_URL"))
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument(
        "--cprofile", type=int, metavar="ROWS", help="also print cProfile's top functions"
    )
    parser.add_argument(
        "--compare-middleware",
        action="store_true",
        help="also time key requests with Django's stock middleware (nothing skipped)",
    )
    args = parser.parse_args()
    if not args.database_url:
        raise SystemExit("--database-url postgresql://.../<name with 'bench'> is required")
    recreate_database(args.database_url)
    tmp = Path(tempfile.mkdtemp(prefix="studio-profile-"))
    from serving import studio_env

    os.environ.update(studio_env(tmp))
    os.environ.pop("REDIS_URL", None)
    os.environ["DATABASE_URL"] = args.database_url
    import atexit
    import shutil

    from serving import prepare_studio

    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    print("preparing: migrate, train, promote, deploy ...", flush=True)
    with contextlib.redirect_stdout(sys.stderr):
        prepared = prepare_studio(tmp)
    from pycaret_studio.wsgi import application as app  # as gunicorn serves it

    instrument()
    path = f"/api/v1/deployments/{prepared['slug']}/predict"
    results = {}
    from django.conf import settings

    for size in (1, 100):
        body = json.dumps({"rows": prepared["rows"][:size]}).encode()
        results[size] = measure(app, path, body, prepared["token"], args.requests)
        results[size]["interval"] = settings.STUDIO_PREDICTION_LOG_FLUSH_S
    if args.compare_middleware:
        body = json.dumps({"rows": prepared["rows"][:1]}).encode()
        results["middleware"] = compare_middleware(app, path, body, prepared["token"], 300)
    print(render(results, args))
    if args.cprofile:
        import cProfile
        import pstats

        body = json.dumps({"rows": prepared["rows"][: args.cprofile]}).encode()
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.requests):
            send(app, path, body, prepared["token"])
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(60)


if __name__ == "__main__":
    main()
