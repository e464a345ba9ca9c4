"""MLflow's model server as a serving peer in bench/serving.py (issue 16).

MLflow lives in its own virtualenv, var/bench/mlflow-venv, so the project's pins stay
untouched. `ensure_venv` creates it once (python3.11 -m venv) and installs `mlflow` together
with the project's PyCaret pin (from requirements.txt) and the scikit-learn, numpy, pandas,
scipy and joblib versions of the interpreter that runs the benchmark (PyCaret pins those
itself, so requirements.txt does not), which is what the pipeline file needs to unpickle.
It installs again only when that list changes. If pip's resolver refuses, `Unavailable`
carries its message and serving.py goes on without MLflow: the limit app remains the bar.

`start` then, in that virtualenv:

1. reads the very artifact file the other servers load, checks its sha256 as they do, and
   logs the unpickled pipeline with `mlflow.sklearn.log_model` (tracking store: a SQLite file
   in the run's temporary folder) with `pyfunc_predict_fn="predict_proba"`, so that a request
   does the same work as the studio's and the limit app's, and with a signature inferred
   from the benchmark's rows, so that MLflow checks the columns and types of every request;
2. serves it with `mlflow models serve -m <model> --env-manager local -w <workers>
   -h 127.0.0.1 -p <port>` (uvicorn workers; access log off, as for create_api's app);
3. waits for `GET /ping`, and checks that the server's probabilities for the 100 rows
   equal the pipeline's own.

Requests are `POST /invocations` with `{"dataframe_records": [{column: value}, ...]}`: the
same rows, in the same shape, as the studio's and the limit app's `{"rows": [...]}`.

Run alone to build the virtualenv and print what it holds:
    .venv/bin/python bench/mlflow_peer.py
Nothing in the test suite imports this module; it imports only the standard library at the
top, so it runs under either interpreter.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / "var" / "bench" / "mlflow-venv"
VENV_PYTHON = VENV / "bin" / "python"
STAMP = VENV / "bench-requirements.txt"
INSTALL_LOG = ROOT / "var" / "bench" / "mlflow-install.log"
# PyCaret pins these itself; the benchmark's interpreter holds the versions that wrote the file.
PINNED_FROM_RUNNING_ENV = ("scikit-learn", "numpy", "pandas", "scipy", "joblib")
PATH = "/invocations"


class Unavailable(Exception):
    """MLflow cannot be installed or served next to the project's pins; the reason."""


def requirements() -> list[str]:
    pins = [
        line.strip()
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line.strip().lower().startswith("pycaret==")
    ]
    if not pins:
        raise Unavailable("requirements.txt pins no pycaret version")
    pins += [f"{name}=={metadata.version(name)}" for name in PINNED_FROM_RUNNING_ENV]
    return ["mlflow", *pins]


def resolver_message(output: str) -> str:
    """pip's own account of why it refused: from its first ERROR line on."""
    lines = output.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("ERROR")), None)
    return "\n".join(lines[-30:] if start is None else lines[start : start + 40])


def ensure_venv() -> Path:
    """The virtualenv's python, created and installed if the requirement list changed."""
    wanted = "\n".join(requirements()) + "\n"
    if VENV_PYTHON.exists() and STAMP.exists() and STAMP.read_text() == wanted:
        return VENV_PYTHON
    INSTALL_LOG.parent.mkdir(parents=True, exist_ok=True)
    if not VENV_PYTHON.exists():
        base = shutil.which("python3.11") or sys.executable
        subprocess.run([base, "-m", "venv", str(VENV)], check=True)
    print(f"installing into {VENV.relative_to(ROOT)}: {' '.join(wanted.split())}", flush=True)
    install = subprocess.run(  # one stream, so the resolver's lines stay in order
        [str(VENV_PYTHON), "-m", "pip", "install", *wanted.split()],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    INSTALL_LOG.write_text(install.stdout)
    if install.returncode:
        raise Unavailable(
            f"pip install {' '.join(wanted.split())} failed (full log: "
            f"{INSTALL_LOG.relative_to(ROOT)}):\n{resolver_message(install.stdout)}"
        )
    STAMP.write_text(wanted)
    return VENV_PYTHON


def venv_env(work: Path) -> dict[str, str]:
    """The project's environment without its interpreter, settings or services."""
    drop = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "DJANGO_SETTINGS_MODULE")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(
        {
            "PATH": f"{VENV / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
            "MLFLOW_TRACKING_URI": f"sqlite:///{work / 'mlflow.db'}",
            "PYCARET_CUSTOM_LOGGING_PATH": os.devnull,
            "MPLBACKEND": "Agg",
            "PYTHONWARNINGS": "ignore",
            "UVICORN_ACCESS_LOG": "false",
            "UVICORN_LOG_LEVEL": "warning",
        }
    )
    return env


# In the MLflow virtualenv: log the pipeline.


def log_pipeline(work: Path, artifact: Path, sha256: str) -> None:
    data = artifact.read_bytes()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise SystemExit("the artifact does not match its sha256")
    import joblib
    import mlflow
    import pandas as pd
    import skops.io
    from mlflow.models import infer_signature

    pipeline = joblib.load(io.BytesIO(data))
    # MLflow saves with skops by default and loads only the types it is told to trust: the
    # pipeline's own (PyCaret's Pipeline and transformers), as its error message advises.
    trusted = skops.io.get_untrusted_types(data=skops.io.dumps(pipeline))
    rows = pd.DataFrame(json.loads((work / "rows.json").read_text()))
    proba = pipeline.predict_proba(rows)
    mlflow.set_experiment("bench-serving")
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(
            pipeline,
            name="pipeline",
            signature=infer_signature(rows, proba),
            pyfunc_predict_fn="predict_proba",
            skops_trusted_types=trusted,
        )
    logged = {"model_uri": info.model_uri, "expected": proba.tolist(), "mlflow": mlflow.__version__}
    (work / "logged.json").write_text(json.dumps(logged))


# In the benchmark's interpreter: serve it.


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port: int, method: str, path: str, body: str | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def body(rows: list[dict]) -> str:
    return json.dumps({"dataframe_records": rows})


class Peer:
    """A running `mlflow models serve`: what serving.py's Target and stop() need."""

    name = "mlflow"
    headers: dict = {}

    def __init__(self, proc: subprocess.Popen, port: int, rows: list[dict], version: str):
        self.proc, self.port, self.version = proc, port, version
        self.paths = {1: PATH, 100: PATH}
        self.bodies = {1: body(rows[:1]), 100: body(rows)}


def wait_ping(port: int, proc: subprocess.Popen, log: Path, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise Unavailable(f"mlflow models serve exited:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            if request(port, "GET", "/ping")[0] == 200:
                return
        time.sleep(0.5)
    raise Unavailable(f"mlflow models serve did not answer /ping:\n{log.read_text()[-3000:]}")


def check_predictions(peer: Peer, expected: list[list[float]]) -> None:
    status, data = request(peer.port, "POST", PATH, peer.bodies[100])
    if status != 200:
        raise Unavailable(f"mlflow answered {status}: {data[:500]!r}")
    got = json.loads(data)["predictions"]
    try:
        close = all(
            abs(a - b) <= 1e-9
            for row, want in zip(got, expected, strict=True)
            for a, b in zip(row, want, strict=True)
        )
    except ValueError:  # a different number of rows or of classes
        close = False
    if not close:
        raise Unavailable("mlflow's probabilities differ from the pipeline's own")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)


def start(prepared: dict, tmp: Path, workers: int) -> Peer:
    """Log the prepared artifact with MLflow and serve it; raises Unavailable with the reason."""
    python = ensure_venv()
    work = tmp / "mlflow"
    work.mkdir()
    env = venv_env(work)
    log = work / "mlflow.log"
    (work / "rows.json").write_text(json.dumps(prepared["rows"]))
    print("mlflow: logging the pipeline with mlflow.sklearn.log_model ...", flush=True)
    with log.open("w") as out:
        logged_ok = subprocess.run(
            [str(python), __file__, "--log", str(work), prepared["artifact"], prepared["sha256"]],
            env=env,
            cwd=work,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    if logged_ok.returncode:
        raise Unavailable(f"logging the pipeline failed:\n{log.read_text()[-3000:]}")
    logged = json.loads((work / "logged.json").read_text())
    port = free_port()
    command = [
        str(VENV / "bin" / "mlflow"),
        "models",
        "serve",
        "-m",
        logged["model_uri"],
        "--env-manager",
        "local",
        "-w",
        str(workers),
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
        "-t",
        "120",
    ]
    proc = subprocess.Popen(
        command,
        env=env,
        cwd=work,
        stdout=log.open("a"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    peer = Peer(proc, port, prepared["rows"], logged["mlflow"])
    try:
        wait_ping(port, proc, log)
        check_predictions(peer, logged["expected"])
    except BaseException:
        stop(proc)
        raise
    return peer


def summary_lines(results: dict, sizes: tuple) -> list[str]:
    """serving.py's summary lines for the MLflow column: against the limit and the studio."""
    if "mlflow_skipped" in results:
        reason = results["mlflow_skipped"].strip().replace("`", "'")
        first, _, rest = reason.partition("\n")
        return [f"- MLflow left out: {first}"] + ([f"```\n{rest}\n```"] if rest else [])
    lines = []
    for size in sizes:
        mlflow, limit, studio = (results[name][size] for name in ("mlflow", "limit", "studio"))
        vs_limit = mlflow["rps"] / limit["rps"]
        lines.append(
            f"- {size}-row requests: throughput mlflow / limit **{vs_limit:.2f}x**"
            f", studio / mlflow **{studio['rps'] / mlflow['rps']:.2f}x**; p50 studio / mlflow "
            f"{studio['p50_ms'] / mlflow['p50_ms']:.2f}x (MLflow {results['mlflow_version']}, "
            "`mlflow models serve --env-manager local`, uvicorn workers)."
        )
    return lines


def main() -> None:
    if sys.argv[1:2] == ["--log"]:
        work, artifact, sha256 = sys.argv[2:5]
        log_pipeline(Path(work), Path(artifact), sha256)
        return
    try:
        python = ensure_venv()
    except Unavailable as exc:
        raise SystemExit(str(exc)) from None
    subprocess.run(
        [
            str(python),
            "-c",
            "import importlib.metadata as m; print(', '.join(f'{p} {m.version(p)}' for p in "
            "('mlflow', 'pycaret', 'scikit-learn', 'numpy', 'pandas', 'uvicorn')))",
        ],
        check=True,
    )


if __name__ == "__main__":
    main()
