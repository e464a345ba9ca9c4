"""Serving under training load: predict latency while a real Celery worker runs two compare runs.

Run (PostgreSQL; the database is dropped and created again, so its name must contain "bench"):

    .venv/bin/python bench/serving_under_load.py \
        --database-url postgresql://postgres@127.0.0.1:5432/studio_load_bench

Not a test: it asserts nothing. It deploys bench/serving.py's pipeline (breast_cancer, logistic
regression) and serves it with gunicorn (`--workers`, 2 by default), then sends single-row
predict requests (p50, p95) at `--concurrency` (2: one request in flight per web worker, a
steady stream rather than a flood):

1. with no worker at all;
2. for each worker setting compared (`--configs`): a real `celery worker` (prefork,
   concurrency 2) starts with that setting, two compare runs are submitted through the API on
   a generated data set (`--rows` x 30, all of PyCaret's default models, fold 3, n_jobs -1),
   and once both are past setup the requests are sent in `--rounds` pairs of windows: one with
   the training paused (SIGSTOP on the worker and every process below it), one with it running
   (SIGCONT). The machine is shared, and its other load moves from minute to minute; pausing
   and resuming the same runs puts both sides of the comparison in the same minutes. The runs
   are cancelled and the worker stopped before the next setting;
3. with no worker again.

Target (issue 16): p95 under load at most 2x the p95 with the training paused. The settings
compared are STUDIO_WORKER_NICE (the niceness of the worker's pool processes, default 10) and
STUDIO_RUN_N_JOBS (the n_jobs of a run's setup); see engine/runner/processes.py.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

README = ROOT / "bench" / "README.md"
START, END = "<!-- under-load:start -->", "<!-- under-load:end -->"
TARGET = 2.0  # p95 under load / p95 unloaded
CONFIGS = {
    "nice0": ("worker at niceness 0 (no setting: before)", {"STUDIO_WORKER_NICE": "0"}),
    "nice10": ("worker at niceness 10 (the default)", {}),
    "njobs1": (
        "worker at niceness 0, STUDIO_RUN_N_JOBS=1",
        {"STUDIO_WORKER_NICE": "0", "STUDIO_RUN_N_JOBS": "1"},
    ),
}


def start_worker(env: dict, extra: dict, log: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "pycaret_studio", "worker",
         "--pool=prefork", "--concurrency=2", "--loglevel=INFO",
         "--without-gossip", "--without-mingle"],
        env={**env, **extra, "PYTHONUNBUFFERED": "1"}, cwd=ROOT,
        stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 180
    while "ready." not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the worker did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)
    return proc


def descendants(pid: int) -> list[int]:
    """Every process below `pid`: the pool processes and the joblib workers they started."""
    found, todo = [], [pid]
    while todo:
        out = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(todo.pop())], capture_output=True, text=True
        ).stdout
        children = [int(p) for p in out.split()]
        found += children
        todo += children
    return found


def signal_tree(proc: subprocess.Popen, sig: int) -> None:
    for pid in [proc.pid, *descendants(proc.pid)]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def kill_group(proc: subprocess.Popen) -> None:
    signal_tree(proc, signal.SIGCONT)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=30)


def niceness_of_children(proc: subprocess.Popen) -> list[str]:
    """Each pool process's niceness, and its session's autogroup niceness where there is one."""
    from engine.runner.processes import autogroup_nice

    out = subprocess.run(
        ["ps", "-o", "pid=,ni=", "--ppid", str(proc.pid)], capture_output=True, text=True
    ).stdout
    found = []
    for line in out.splitlines():
        pid, ni = line.split()
        group = autogroup_nice(pid)
        if group is not None:
            ni = f"{ni} (session {group})"
        found.append(ni)
    return found


def submit_runs(client, key: str, experiment_id: int, n: int) -> list[int]:
    plan = {"kind": "compare", "fold": 3}
    ids = []
    for _ in range(n):
        response = client.post(
            f"/api/v1/experiments/{experiment_id}/runs",
            {"plan": plan},
            content_type="application/json",
            headers={"X-PyCaret-Key": key},
        )
        if response.status_code != 202:
            raise SystemExit(f"submitting a run failed: {response.content[:500]!r}")
        ids.append(response.json()["id"])
    return ids


def wait_past_setup(run_ids: list[int], timeout: float = 300) -> None:
    """Until every run has started comparing models (its "setup done" event)."""
    from engine.models import Run, RunEvent

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = RunEvent.objects.filter(run_id__in=run_ids, message="setup done").count()
        if done >= len(run_ids):
            return
        failed = Run.objects.filter(pk__in=run_ids, status__in=("failed", "cancelled"))
        if failed.exists():
            raise SystemExit(f"a run ended early: {list(failed.values('id', 'status', 'error'))}")
        time.sleep(0.5)
    raise SystemExit("the runs did not get past setup in time")


def running(run_ids: list[int]) -> int:
    from engine.models import Run

    return Run.objects.filter(pk__in=run_ids, status="running").count()


def cancel(client, key: str, run_ids: list[int]) -> None:
    for run_id in run_ids:
        client.post(f"/api/v1/runs/{run_id}/cancel", headers={"X-PyCaret-Key": key})


def measure(target, args) -> dict:
    from serving import load

    loads = [os.getloadavg()[0]]
    result = load(target, 1, args.requests, args.concurrency)
    loads.append(os.getloadavg()[0])
    result["load"] = f"{min(loads):.1f}-{max(loads):.1f}"
    return result


def interleaved(target, worker: subprocess.Popen, args) -> tuple[dict, dict]:
    """The same requests with the training paused (SIGSTOP on the worker and every process
    below it) and running, in alternating windows, so a change in the shared machine's other
    load falls on both; each side's latencies pooled."""
    from serving import load, merged

    sides: dict[str, list] = {"paused": [], "loaded": []}
    loads = [os.getloadavg()[0]]
    per_window = max(1, args.requests // args.rounds)
    for _ in range(args.rounds):
        signal_tree(worker, signal.SIGSTOP)
        time.sleep(1)
        sides["paused"].append(load(target, 1, per_window, args.concurrency))
        signal_tree(worker, signal.SIGCONT)
        time.sleep(2)  # the runs' processes back on the CPU
        sides["loaded"].append(load(target, 1, per_window, args.concurrency))
        loads.append(os.getloadavg()[0])
    out = []
    for side in ("paused", "loaded"):
        result = merged(sides[side], 1)
        result["load"] = f"{min(loads):.1f}-{max(loads):.1f}"
        out.append(result)
    return out[0], out[1]


def render(rows: list[tuple[str, dict]], args) -> str:
    from serving import versions

    lines = [
        f"Last run: {date.today().isoformat()}, {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; {versions()}.",
        f"Studio under gunicorn, {args.workers} workers, PostgreSQL; single-row predict "
        f"requests at concurrency {args.concurrency}. Load: a real Celery worker (prefork, "
        "concurrency 2) running two compare runs (all default models, fold 3, n_jobs -1) on "
        f"{args.rows:,} x 30 generated rows, once both are past setup. For each setting, "
        f"{args.requests} requests with the training paused (SIGSTOP on the worker's processes) "
        f"and {args.requests} with it running, in {args.rounds} alternating windows; the "
        "ratio compares the two sides of the same setting. 'No worker' rows: no worker at all.",
        "",
        "| phase | requests/s | p50 | p95 | pool niceness | runs running at the end "
        "| load average |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, r in rows:
        lines.append(
            f"| {label} | {r['rps']:.1f} | {r['p50_ms']:.1f} ms | {r['p95_ms']:.1f} ms | "
            f"{r.get('niceness', '-')} | {r.get('running', '-')} | {r['load']} |"
        )
    lines.append("")
    results = dict(rows)
    for name in args.configs.split(","):
        label = CONFIGS[name][0]
        paused, loaded = results[f"{label}: training paused"], results[f"{label}: under load"]
        ratio = loaded["p95_ms"] / paused["p95_ms"]
        met = "met" if ratio <= TARGET else "MISSED"
        lines.append(
            f"- {label}: p95 under load **{ratio:.2f}x** the paused p95 (target <= 2x: {met}); "
            f"p50 {loaded['p50_ms'] / paused['p50_ms']:.2f}x; throughput "
            f"{loaded['rps'] / paused['rps']:.2f}x."
        )
    return "\n".join(lines)


def write_readme(section: str) -> None:
    text = README.read_text()
    block = f"{START}\n{section}\n{END}"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        _, tail = rest.split(END, 1)
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n## Serving under training load\n\n" + block + "\n"
    README.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--requests", type=int, default=400, help="per side of each setting")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--configs", default="nice0,nice10", help=",".join(CONFIGS))
    parser.add_argument("--no-readme", action="store_true")
    args = parser.parse_args()

    from profile_predict import recreate_database
    from serving import Target, free_port, prepare_studio, start, stop, studio_env, wait_listening

    recreate_database(args.database_url)
    tmp = Path(tempfile.mkdtemp(prefix="studio-load-"))
    env = studio_env(tmp)  # no REDIS_URL: the worker takes runs from a broker folder in tmp
    env["DATABASE_URL"] = args.database_url
    os.environ.update(env)
    os.environ.pop("REDIS_URL", None)
    server = None
    try:
        print("preparing: migrate, train, promote, deploy ...", flush=True)
        with contextlib.redirect_stdout(sys.stderr):
            prepared = prepare_studio(tmp)
            from overhead import bench_fixtures

            key, experiments = bench_fixtures(args.rows)
        experiment_id = experiments[f"generated_{args.rows}x30"].pk
        from django.db import connections
        from django.test import Client

        connections.close_all()
        client = Client(HTTP_HOST="localhost")
        port = free_port()
        log = tmp / "gunicorn.log"
        server = start(
            [str(Path(sys.executable).parent / "gunicorn"), "pycaret_studio.wsgi",
             "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers), "--timeout", "120"],
            env=env, cwd=ROOT, log=log,
        )  # fmt: skip
        wait_listening(port, server, log)
        path = f"/api/v1/deployments/{prepared['slug']}/predict"
        body = json.dumps({"rows": prepared["rows"][:1]})
        target = Target("studio", port, {1: path}, {1: body}, {"X-PyCaret-Key": prepared["token"]})
        from serving import load

        load(target, 1, 100, args.concurrency)  # warm-up: every worker loads the pipeline
        rows = [("no worker (before)", measure(target, args))]
        print(f"no worker: p95 {rows[-1][1]['p95_ms']:.1f} ms", flush=True)
        for name in args.configs.split(","):
            label, extra = CONFIGS[name]
            print(f"{label}: starting the worker, two compare runs ...", flush=True)
            worker = start_worker(env, extra, tmp / f"worker-{name}.log")
            try:
                run_ids = submit_runs(client, key, experiment_id, 2)
                wait_past_setup(run_ids)
                paused, loaded = interleaved(target, worker, args)
                loaded["running"] = running(run_ids)
                loaded["niceness"] = ",".join(map(str, niceness_of_children(worker)))
                cancel(client, key, run_ids)
            finally:
                kill_group(worker)
            rows.append((f"{label}: training paused", paused))
            rows.append((f"{label}: under load", loaded))
            ratio = loaded["p95_ms"] / paused["p95_ms"]
            print(f"  p95 {loaded['p95_ms']:.1f} ms under load, {paused['p95_ms']:.1f} ms paused")
            print(f"  ratio {ratio:.2f}x; runs still running: {loaded['running']}", flush=True)
        rows.append(("no worker (after)", measure(target, args)))
        section = render(rows, args)
        print("\n" + section)
        if not args.no_readme:
            write_readme(section)
            print(f"\nwritten to {README.relative_to(ROOT)}")
    finally:
        if server is not None:
            stop(server)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
