"""Benchmark serving: the studio's predict endpoint against the limit and PyCaret's create_api.

Run: .venv/bin/python bench/serving.py [--workers N] [--requests N] [--concurrency 8]

Not a test: it asserts nothing. One promoted pipeline (breast_cancer, logistic regression,
trained in-process by the studio's runner) is served two ways, with the same number of
worker processes:

- studio: `POST /api/v1/deployments/<slug>/predict` under gunicorn (sync workers, as in the
  Procfile), authenticated with an API key, on a throwaway SQLite database under a temporary
  STUDIO_VAR_DIR; every request is logged with its input sample, as in production;
- limit: bench/limit_app.py, a minimal WSGI app under the same gunicorn settings that loads
  the same artifact file (its sha256 checked, like the studio) and answers one
  `predict_proba` call on the posted rows: no auth, no checks, no log;
- mlflow: `mlflow models serve` on the same artifact, from its own virtualenv (see
  bench/mlflow_peer.py; `--no-mlflow` leaves it out);
- pycaret: the FastAPI file that PyCaret 3.3.2's `create_api` generates, under uvicorn, loading
  the very same artifact file. The generated app takes one row per request; for 100-row
  requests a list route is appended to it, built the same way (`predict_model` once per
  request on the rows' DataFrame).

A load generator on loopback (threads and http.client) sends a bounded number of requests
at a fixed concurrency, single-row and 100-row, after a warm-up that loads the pipeline in
every worker. The figures are printed and written into bench/README.md between the serving
markers.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "bench" / "README.md"
START, END = "<!-- serving:start -->", "<!-- serving:end -->"
PYTHON = sys.executable
BIN = Path(PYTHON).parent
THROUGHPUT_TARGET = 2.0  # studio / pycaret
P50_TARGET = 0.5  # studio / pycaret
LIMIT_TARGET = 0.5  # studio / limit, throughput
SERVERS = ["studio", "limit", "mlflow", "pycaret"]  # mlflow: see bench/mlflow_peer.py
SIZES = (1, 100)

BATCH_ROUTE = """

# Added by bench/serving.py: the same handler for a list of rows, so 100-row requests
# can be compared; it calls predict_model once on the rows' DataFrame.
from typing import List


@app.post("/predict_batch")
def predict_batch(data: List[input_model]):
    data = pd.DataFrame([row.dict() for row in data])
    predictions = predict_model(model, data=data)
    return {"prediction": predictions["prediction_label"].tolist()}
"""


PYDANTIC2_HELPER = """
# Added by bench/serving.py: the generated create_model(**{column: example}) calls fail
# under pydantic 2, which needs (type, default) pairs; nothing else is changed.
def _fields(examples):
    return {name: (type(value), value) for name, value in examples.items()}

"""


def pydantic2_compatible(source: str) -> str:
    """Make the generated app importable with pydantic 2 (PyCaret 3.3.2 wrote it for 1.x)."""
    out = []
    for line in source.splitlines():
        if line.startswith("input_model = create_model("):
            name, rest = line.split(", **", 1)
            line = f"{name}, **_fields({rest[:-1]}))"
        elif line.startswith("output_model = create_model("):
            name, rest = line.split(", ", 1)
            field, value = rest[:-1].split("=", 1)
            line = f"{name}, **_fields({{{field!r}: {value}}}))"
        elif line.startswith("# Create the app"):
            out.append(PYDANTIC2_HELPER)
        out.append(line)
    return "\n".join(out) + "\n"


def studio_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "pycaret_studio.settings",
            "STUDIO_VAR_DIR": str(tmp / "var"),
            "MEDIA_ROOT": str(tmp / "var" / "media"),
            "STUDIO_QUEUE_DIR": str(tmp / "var" / "queue"),
            "DEBUG": "false",
            "SECRET_KEY": "bench-" + secrets.token_urlsafe(32),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "LOG_LEVEL": "WARNING",
            "PYCARET_CUSTOM_LOGGING_PATH": os.devnull,
            "MPLBACKEND": "Agg",
            "PYTHONWARNINGS": "ignore",
        }
    )
    return env


# Preparation, in a child process with the studio's environment.


def prepare_studio(tmp: Path) -> dict:
    """Train, promote and deploy the benchmark pipeline on the configured database; return
    what the load needs (slug, key, rows) and what the other servers load (the artifact)."""
    sys.path.insert(0, str(ROOT))
    import warnings

    warnings.filterwarnings("ignore")
    import django

    django.setup()
    from django.core.files.base import ContentFile
    from django.core.management import call_command
    from django.utils import timezone
    from sklearn.datasets import load_breast_cancer

    from accounts.services import api_key_create, user_signup
    from engine.ingest import read_parquet_frame
    from engine.models import Run, RunStatus
    from engine.runner import ListSink, execute_plan
    from engine.selectors.datasets import dataset_parquet_file
    from engine.services.datasets import dataset_ingest
    from engine.services.deployments import deployment_deploy
    from engine.services.execution import _record_success, store_run_files
    from engine.services.experiments import experiment_create
    from engine.services.pipelines import pipeline_promote
    from engine.services.projects import project_create

    call_command("migrate", verbosity=0)
    user = user_signup(username="bench", password=secrets.token_urlsafe(16))
    workspace = user.memberships.first().workspace
    project = project_create(workspace=workspace, name="Bench", user=user)
    csv = load_breast_cancer(as_frame=True).frame.to_csv(index=False).encode()
    dataset = dataset_ingest(
        project=project,
        file=ContentFile(csv, name="breast_cancer.csv"),
        filename="breast_cancer.csv",
        name="breast_cancer.csv",
        user=user,
    )
    setup = {"fold": 2, "session_id": 123}
    experiment = experiment_create(
        project=project,
        dataset=dataset,
        name="screening",
        task="classification",
        target="target",
        setup=setup,
        user=user,
    )
    plan = {"kind": "create", "model_id": "lr"}
    run = Run.objects.create(
        experiment=experiment, plan=plan, status=RunStatus.RUNNING, started_at=timezone.now()
    )
    with dataset_parquet_file(dataset) as parquet:
        frame = read_parquet_frame(parquet)
    work_dir = Path(tempfile.mkdtemp(prefix=f"bench-run-{run.pk}-"))  # the bare app loads it
    result = execute_plan(
        plan=plan,
        data=frame,
        task="classification",
        target="target",
        setup_options=setup,
        work_dir=work_dir,
        sink=ListSink(),
        dataset_sha256=dataset.sha256,
    )
    store_run_files(run.pk, work_dir, result)
    _record_success(run, result)
    run.refresh_from_db()
    pipeline = pipeline_promote(run=run, user=user, name="screening")
    # A benchmark endpoint, not a reviewed release: deployed over the gate's warning.
    deployment, _ = deployment_deploy(pipeline=pipeline, user=user, acknowledge_risks=True)
    _, token = api_key_create(user=user, name="bench", scopes=["predict"], workspace=workspace)
    rows = frame.drop(columns="target").sample(n=100, random_state=0)
    return {
        "slug": deployment.slug,
        "token": token,
        "rows": json.loads(rows.to_json(orient="records")),
        "artifact": str(work_dir / result.artifact_filename),
        "sha256": pipeline.artifact_sha256,
        "frame": frame,
        "setup": setup,
        "work_dir": work_dir,
    }


def prepare(tmp: Path) -> None:
    studio = prepare_studio(tmp)
    frame, setup, work_dir = studio["frame"], studio["setup"], studio["work_dir"]
    # PyCaret's own app, generated by create_api, then pointed at the same artifact bytes.
    from pycaret.classification import ClassificationExperiment

    exp = ClassificationExperiment()
    exp.setup(frame, target="target", verbose=False, html=False, system_log=False, **setup)
    model = exp.load_model(str(work_dir / "pipeline"), verbose=False)
    api_dir = tmp / "pycaret_api"
    api_dir.mkdir()
    cwd = os.getcwd()
    os.chdir(api_dir)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            exp.create_api(model, "pycaret_api")
    finally:
        os.chdir(cwd)
    shutil.copyfile(studio["artifact"], api_dir / "pycaret_api.pkl")
    source = api_dir / "pycaret_api.py"
    source.write_text(pydantic2_compatible(source.read_text()) + BATCH_ROUTE)
    keep = ("slug", "token", "rows", "artifact", "sha256")
    (tmp / "prepared.json").write_text(json.dumps({k: studio[k] for k in keep}))


# Servers.


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(cmd: list[str], *, env: dict, cwd: Path, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        cmd,
        env=env,
        cwd=cwd,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)


def wait_listening(port: int, proc: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.2)
    raise SystemExit(f"server did not start:\n{log.read_text()[-3000:]}")


# Load.


class Target:
    def __init__(self, name: str, port: int, paths: dict, bodies: dict, headers: dict):
        self.name, self.port, self.paths, self.bodies, self.headers = (
            name,
            port,
            paths,
            bodies,
            headers,
        )


def load(target: Target, size: int, total: int, concurrency: int) -> dict:
    path, body = target.paths[size], target.bodies[size]
    headers = {"Content-Type": "application/json", **target.headers}
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    counter = iter(range(total))

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", target.port, timeout=120)
        while True:
            with lock:
                if next(counter, None) is None:
                    break
            started = time.perf_counter()
            try:
                conn.request("POST", path, body, headers)
                response = conn.getresponse()
                data = response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                status, data = 0, str(exc).encode()
            elapsed = time.perf_counter() - started
            with lock:
                if status == 200:
                    latencies.append(elapsed)
                else:
                    failures.append(f"{status}: {data[:200]!r}")
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    if failures:
        raise SystemExit(f"{target.name}: {len(failures)} failed requests, e.g. {failures[0]}")
    return summary(latencies, wall, size)


def summary(latencies: list[float], wall: float, size: int) -> dict:
    """Throughput and latency percentiles of `latencies` (seconds) over `wall` seconds."""
    latencies = sorted(latencies)
    total = len(latencies)
    return {
        "requests": total,
        "wall_s": wall,
        "rps": total / wall,
        "rows_per_s": total * size / wall,
        "p50_ms": 1000 * statistics.median(latencies),
        "p95_ms": 1000 * latencies[min(total - 1, int(0.95 * total))],
        "p99_ms": 1000 * latencies[min(total - 1, int(0.99 * total))],
        "latencies": latencies,
    }


def merged(parts: list[dict], size: int) -> dict:
    """One result from the rounds of one server: requests and wall time summed, latencies
    pooled."""
    latencies = [x for part in parts for x in part["latencies"]]
    return summary(latencies, sum(part["wall_s"] for part in parts), size)


def warm_up(target: Target, workers: int, concurrency: int) -> None:
    """Until every worker has loaded the pipeline: latency settles below 10x the fastest."""
    for size in SIZES:
        load(target, size, max(4 * workers, concurrency), concurrency)
    for _ in range(10):
        probe = load(target, 1, 8 * workers, concurrency)
        if probe["p99_ms"] < 10 * probe["p50_ms"] + 50:
            break


# Report.


def render(results: dict, args, versions: dict) -> str:
    lines = [
        f"Last run: {date.today().isoformat()}, {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; {versions}.",
        f"{args.workers} worker processes each; concurrency {args.concurrency}; "
        f"{args.requests} single-row and {args.requests // 2} 100-row requests per server, "
        f"after a warm-up, in {args.rounds} rounds in which the servers take turns. Studio "
        f"database: {'PostgreSQL' if args.database_url else 'SQLite'}. "
        f"Load average during the run: {results['load']}. Studio prediction log: "
        + (
            "buffered, written by a background thread every 1 s (the default)."
            if args.log_flush_s is None
            else f"buffered, written every {args.log_flush_s:g} s."
            if args.log_flush_s
            else "one write per request, after its response."
        ),
        "",
        "| rows / request | server | requests/s | rows/s | p50 | p99 |",
        "|---|---|---|---|---|---|",
    ]
    for size in SIZES:
        for name in (n for n in SERVERS if size in results.get(n, {})):
            r = results[name][size]
            lines.append(
                f"| {size} | {name} | {r['rps']:.1f} | {r['rows_per_s']:.0f} | "
                f"{r['p50_ms']:.1f} ms | {r['p99_ms']:.1f} ms |"
            )
    lines.append("")
    for size in SIZES:
        studio, limit = results["studio"][size], results["limit"][size]
        ratio = studio["rps"] / limit["rps"]
        met = "met" if ratio >= LIMIT_TARGET else "MISSED"
        lines.append(
            f"- {size}-row requests: throughput studio / limit **{ratio:.2f}x** "
            f"(target >= {LIMIT_TARGET}x: {met}); p50 studio / limit "
            f"{studio['p50_ms'] / limit['p50_ms']:.2f}x."
        )
    for size in SIZES:
        studio, pycaret = results["studio"][size], results["pycaret"][size]
        ratio = studio["rps"] / pycaret["rps"]
        p50 = studio["p50_ms"] / pycaret["p50_ms"]
        met_rps = "met" if ratio >= THROUGHPUT_TARGET else "MISSED"
        met_p50 = "met" if p50 <= P50_TARGET else "MISSED"
        lines.append(
            f"- {size}-row requests: throughput studio / pycaret **{ratio:.1f}x** "
            f"(target >= {THROUGHPUT_TARGET:.0f}x: {met_rps}); "
            f"p50 studio / pycaret **{p50:.2f}x** (target <= {P50_TARGET}x: {met_p50})."
        )
    from mlflow_peer import summary_lines

    lines += summary_lines(results, SIZES)
    return "\n".join(lines)


SECTION_INTRO = """## Serving

`bench/serving.py` serves one promoted pipeline (breast_cancer, logistic regression) two
ways with the same number of worker processes: the studio's predict endpoint under
gunicorn (API key auth, scoped lookup, row checks, request log and input sample on a
throwaway SQLite database), and the FastAPI app that PyCaret's `create_api` generates, under
uvicorn, loading the same artifact file. PyCaret 3.3.2 writes that app for pydantic 1; the
script changes only its two `create_model` calls so that it imports under pydantic 2, and
appends a list route, built like the generated one, for 100-row requests. A threaded
http.client load generator on loopback sends single-row and 100-row requests at
concurrency 8 after a warm-up. Targets: studio throughput at least 2x PyCaret's and p50 at
most 0.5x, at both sizes. `fastapi` and `uvicorn` are in requirements-dev.txt for this
script only.

"""


def write_readme(section: str) -> None:
    text = README.read_text() if README.exists() else "# Benchmarks\n"
    block = f"{START}\n{section}\n{END}"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        _, tail = rest.split(END, 1)
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n" + SECTION_INTRO + block + "\n"
    README.write_text(text)


def versions() -> str:
    out = subprocess.run(
        [
            PYTHON,
            "-c",
            "import importlib.metadata as m;"
            "print(', '.join(f'{p} {m.version(p)}' for p in "
            "('pycaret','scikit-learn','django','gunicorn','fastapi','uvicorn')))",
        ],
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--requests", type=int, default=400, help="single-row requests")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--rounds", type=int, default=4, help="the servers take turns this many times per size"
    )
    parser.add_argument(
        "--log-flush-s",
        type=float,
        default=None,
        help="STUDIO_PREDICTION_LOG_FLUSH_S for the studio (default: the studio's default, "
        "1 s: buffered, written by a background thread; 0: each request's log at once)",
    )
    parser.add_argument(
        "--database-url",
        help="serve the studio from this PostgreSQL database (dropped and created again, so "
        "its name must contain 'bench'); default: a throwaway SQLite file",
    )
    parser.add_argument("--no-readme", action="store_true")
    parser.add_argument(
        "--no-mlflow",
        action="store_true",
        help="leave out MLflow's model server (default: served from var/bench/mlflow-venv, "
        "which bench/mlflow_peer.py creates once)",
    )
    parser.add_argument("--prepare", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare:
        prepare(args.prepare)
        return

    tmp = Path(tempfile.mkdtemp(prefix="studio-bench-"))
    env = studio_env(tmp)
    if args.database_url:
        from profile_predict import recreate_database

        recreate_database(args.database_url)
        env["DATABASE_URL"] = args.database_url
    if args.log_flush_s is not None:
        env["STUDIO_PREDICTION_LOG_FLUSH_S"] = str(args.log_flush_s)
    servers: list[subprocess.Popen] = []
    try:
        print("preparing: migrate, train, promote, deploy, create_api ...", flush=True)
        subprocess.run([PYTHON, __file__, "--prepare", str(tmp)], env=env, cwd=ROOT, check=True)
        prepared = json.loads((tmp / "prepared.json").read_text())
        rows = prepared["rows"]
        studio_port, pycaret_port, limit_port = free_port(), free_port(), free_port()
        limit_log = tmp / "limit.log"
        limit_env = {
            **env,
            "LIMIT_ARTIFACT": prepared["artifact"],
            "LIMIT_SHA256": prepared["sha256"],
        }
        studio_log, pycaret_log = tmp / "gunicorn.log", tmp / "uvicorn.log"
        servers.append(
            start(
                [
                    str(BIN / "gunicorn"),
                    "pycaret_studio.wsgi",
                    "--bind",
                    f"127.0.0.1:{studio_port}",
                    "--workers",
                    str(args.workers),
                    "--timeout",
                    "120",
                ],
                env=env,
                cwd=ROOT,
                log=studio_log,
            )
        )
        servers.append(
            start(
                [
                    str(BIN / "uvicorn"),
                    "pycaret_api:app",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(pycaret_port),
                    "--workers",
                    str(args.workers),
                    "--log-level",
                    "warning",
                    "--no-access-log",
                ],
                env=env,
                cwd=tmp / "pycaret_api",
                log=pycaret_log,
            )
        )
        servers.append(
            start(
                [
                    str(BIN / "gunicorn"),
                    "limit_app:app",
                    "--bind",
                    f"127.0.0.1:{limit_port}",
                    "--workers",
                    str(args.workers),
                    "--timeout",
                    "120",
                ],
                env=limit_env,
                cwd=ROOT / "bench",
                log=limit_log,
            )
        )
        wait_listening(studio_port, servers[0], studio_log)
        wait_listening(pycaret_port, servers[1], pycaret_log)
        wait_listening(limit_port, servers[2], limit_log)

        predict_path = f"/api/v1/deployments/{prepared['slug']}/predict"
        studio = Target(
            "studio",
            studio_port,
            {1: predict_path, 100: predict_path},
            {
                1: json.dumps({"rows": rows[:1]}),
                100: json.dumps({"rows": rows}),
            },
            {"X-PyCaret-Key": prepared["token"]},
        )
        pycaret = Target(
            "pycaret",
            pycaret_port,
            {1: "/predict", 100: "/predict_batch"},
            {1: json.dumps(rows[0]), 100: json.dumps(rows)},
            {},
        )
        limit = Target(
            "limit",
            limit_port,
            {1: "/predict", 100: "/predict"},
            {1: json.dumps({"rows": rows[:1]}), 100: json.dumps({"rows": rows})},
            {},
        )
        # Every server measured, by name (the names in SERVERS); measured in this order.
        targets = {"pycaret": pycaret, "limit": limit, "studio": studio}
        extra: dict = {}
        if args.no_mlflow:
            extra["mlflow_skipped"] = "--no-mlflow."
        else:
            import mlflow_peer

            try:
                peer = mlflow_peer.start(prepared, tmp, args.workers)
            except mlflow_peer.Unavailable as exc:
                extra["mlflow_skipped"] = str(exc)
                print(f"MLflow left out: {exc}", flush=True)
            else:
                servers.append(peer.proc)
                extra["mlflow_version"] = peer.version
                targets = {
                    "pycaret": pycaret,
                    "limit": limit,
                    "mlflow": Target(peer.name, peer.port, peer.paths, peer.bodies, {}),
                    "studio": studio,
                }
        print("warming up (loads the pipeline in every worker) ...", flush=True)
        for target in targets.values():
            warm_up(target, args.workers, args.concurrency)
        results: dict = {name: {} for name in targets}
        results.update(extra)
        loads = [os.getloadavg()[0]]
        for size in SIZES:
            total = args.requests if size == 1 else args.requests // 2
            # The servers take turns, round after round, so a change in the shared machine's
            # load falls on all of them rather than on whichever ran at that moment.
            parts: dict = {name: [] for name in targets}
            for _ in range(args.rounds):
                for target in targets.values():
                    parts[target.name].append(
                        load(target, size, max(1, total // args.rounds), args.concurrency)
                    )
                    loads.append(os.getloadavg()[0])
            for name in targets:
                result = results[name][size] = merged(parts[name], size)
                print(
                    f"{name:8s} {size:3d} rows: {result['rps']:7.1f} req/s  "
                    f"p50 {result['p50_ms']:7.1f} ms  p99 {result['p99_ms']:7.1f} ms",
                    flush=True,
                )
        results["load"] = f"{min(loads):.1f} to {max(loads):.1f} on {os.cpu_count()} cores"
        section = render(results, args, versions())
        print("\n" + section)
        if not args.no_readme:
            write_readme(section)
            print(f"\nwritten to {README.relative_to(ROOT)}")
    finally:
        for proc in servers:
            stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
