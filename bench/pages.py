"""Benchmark the pages at 100 and 10,000 runs, side by side (not a test).

Run: DATABASE_URL=postgresql://... .venv/bin/python bench/pages.py [--seconds 10] [--clients 20]

Seeds two workspaces with `seed_scale` (100 and 10,000 runs) unless they exist, starts gunicorn
on a free loopback port, and for each page and size runs `--clients` concurrent clients (threads
with their own keep-alive session, signed in with a session cookie) for `--seconds`, in
`--rounds` short turns that alternate between the sizes (so a shift in the machine's load does
not fall on one size only). `seed_scale` leaves the planner statistics fresh. It reports
the p50 and p95 latency per page at both sizes and the ratio of the p95 at 10,000 to the p95 at
100 (target: at most 1.5). Needs PostgreSQL: the figures mean nothing on SQLite.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = {100: "bench100", 10_000: "bench10k"}
TARGET = 1.5
PAGES = [
    ("dashboard", "/"),
    ("project", "/projects/{project}/"),
    ("experiment runs table", "/experiments/{experiment}/runs/"),
    ("run", "/runs/{run}/"),
    ("pipeline", "/pipelines/{pipeline}/"),
    ("deployment", "/deployments/{slug}/"),
    ("API runs list", "/api/v1/experiments/{experiment}/runs"),
    # The same page size at both sizes (the busy experiment holds 10 runs at 100): what the
    # list costs as the data grows, apart from the default page holding 50 runs instead of 10.
    ("API runs list, limit=10", "/api/v1/experiments/{experiment}/runs?limit=10"),
]


def _django():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pycaret_studio.settings")
    import django

    django.setup()


def _targets(username: str, runs: int) -> dict:
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command

    from accounts.models import User
    from engine.models import Deployment, Experiment, Pipeline, Project, Run

    if not User.objects.filter(username=username).exists():
        call_command("seed_scale", "--runs", str(runs), "--username", username)
    user = User.objects.get(username=username)
    workspace = user.memberships.get().workspace
    project = Project.objects.filter(workspace=workspace).order_by("pk").first()
    experiment = Experiment.objects.filter(project=project).order_by("pk").first()
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return {
        "cookie": session.session_key,
        "project": project.pk,
        "experiment": experiment.pk,
        "run": Run.objects.filter(experiment=experiment, status="succeeded").first().pk,
        "pipeline": Pipeline.objects.filter(project=project).order_by("pk").first().pk,
        "slug": Deployment.objects.filter(project=project).order_by("pk").first().slug,
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str, timeout: float = 60) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=10)
            return
        except requests.RequestException:
            time.sleep(0.3)
    raise SystemExit(f"gunicorn did not answer on {url}")


def _load(url: str, cookie: str, clients: int, seconds: float, htmx: bool) -> list[float]:
    """Latencies (ms) of every request `clients` threads made to `url` in `seconds`."""
    import requests

    latencies: list[float] = []
    errors: list[int] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    headers = {"HX-Request": "true"} if htmx else {}

    def client():
        session = requests.Session()
        session.cookies.set("sessionid", cookie)
        mine = []
        while time.monotonic() < stop:
            started = time.perf_counter()
            response = session.get(url, headers=headers, timeout=60)
            mine.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                errors.append(response.status_code)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit(f"{url}: {len(errors)} responses were not 200, e.g. {errors[0]}")
    return latencies


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument(
        "--rounds", type=int, default=5, help="turns each size takes, --seconds in all"
    )
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database.")
    _django()
    targets = {size: _targets(name, size) for size, name in SIZES.items()}
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    gunicorn = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "pycaret_studio.wsgi", "--bind",
         f"127.0.0.1:{port}", "--workers", str(args.workers), "--timeout", "120"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait(base + "/api/v1/health")
        rows = []
        for name, template in PAGES:
            htmx = name == "experiment runs table"
            urls = {size: base + template.format(**targets[size]) for size in SIZES}
            for size in SIZES:
                _load(urls[size], targets[size]["cookie"], 2, 1, htmx)  # warm every worker
            # The sizes take turns in short rounds (the order flipping each round), so a change
            # in the machine's load weighs on both alike instead of on whichever ran second.
            latencies: dict[int, list[float]] = {size: [] for size in SIZES}
            for round_ in range(args.rounds):
                for size in list(SIZES)[:: 1 if round_ % 2 == 0 else -1]:
                    latencies[size] += _load(
                        urls[size],
                        targets[size]["cookie"],
                        args.clients,
                        args.seconds / args.rounds,
                        htmx,
                    )
            figures = {
                size: (_pct(found, 50), _pct(found, 95), len(found))
                for size, found in latencies.items()
            }
            small, large = figures[100], figures[10_000]
            rows.append((name, *small[:2], *large[:2], large[1] / small[1], small[2], large[2]))
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=30)
    print(f"{args.clients} clients, {args.seconds:g} s per page and size in {args.rounds} "
          f"alternating rounds, gunicorn --workers {args.workers}, PostgreSQL\n")  # fmt: skip
    print("| page | p50 @100 | p95 @100 | p50 @10,000 | p95 @10,000 | p95 ratio | requests |")
    print("|---|---|---|---|---|---|---|")
    for name, p50s, p95s, p50l, p95l, ratio, n_small, n_large in rows:
        mark = "" if ratio <= TARGET else " (over 1.5)"
        print(
            f"| {name} | {p50s:.0f} ms | {p95s:.0f} ms | {p50l:.0f} ms | {p95l:.0f} ms "
            f"| {ratio:.2f}{mark} | {n_small} / {n_large} |"
        )


if __name__ == "__main__":
    main()
