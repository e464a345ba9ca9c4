"""Benchmark dataset ingestion against bare pandas on a ~100 MB CSV (not a test).

Run: .venv/bin/python bench/ingest.py [--rows N] [--runs N]

Each measurement runs in a fresh child process, so peak RSS (ru_maxrss) belongs to that run
alone (Linux carries ru_maxrss across exec, so the parent stays small: even the CSV is made
by a child); wall time is taken inside the child around the work only (imports excluded). Studio and
baseline runs alternate, and the medians are compared, so machine noise hits both alike.
The figures are printed and written into bench/README.md between the ingest markers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "bench" / "README.md"
START, END = "<!-- ingest:start -->", "<!-- ingest:end -->"
TIME_TARGET = 1.0  # studio time / pandas time
RSS_TARGET = 3.0  # studio peak RSS / file size


def make_csv(path: Path, rows: int) -> None:
    """Numeric, integer, categorical and boolean columns, some missing values; fixed seed."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pcsv

    rng = np.random.default_rng(20240611)
    columns = {}
    for i in range(6):
        values = np.round(rng.normal(100 * i, 10 + i, rows), 4)
        if i == 1:
            values[rng.random(rows) < 0.05] = np.nan
        columns[f"num_{i}"] = values
    for i in range(3):
        columns[f"int_{i}"] = rng.integers(0, 10 ** (i + 2), rows)
    cities = np.array(["Amsterdam", "Berlin", "Lisbon", "Madrid", "Paris", "Rome", "Oslo"])
    columns["city"] = cities[rng.integers(0, len(cities), rows)]
    columns["segment"] = np.array(["gold", "silver", "bronze"])[rng.integers(0, 3, rows)]
    columns["customer"] = np.char.add("C", rng.integers(0, 200_000, rows).astype(str))
    columns["churned"] = rng.random(rows) < 0.3
    pcsv.write_csv(pa.table(columns), path, pcsv.WriteOptions(quoting_style="needed"))


def child(kind: str, csv_path: Path, work: Path) -> None:
    """One measurement: import first, then time only the work; print JSON."""
    cpu_before = _cpu_seconds()
    if kind == "studio":
        sys.path.insert(0, str(ROOT))
        from engine.ingest import ingest_file

        out = work / "data.parquet"
        started = time.perf_counter()
        ingest_file(source=csv_path, filename="data.csv", parquet_out=out, max_bytes=2**40)
        seconds = time.perf_counter() - started
        out.unlink()
    else:
        import pandas as pd

        started = time.perf_counter()
        frame = pd.read_csv(csv_path)
        frame.describe()
        seconds = time.perf_counter() - started
    cpu = _cpu_seconds() - cpu_before
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "peak_rss": peak}))


def _cpu_seconds() -> float:
    """User plus system time of every thread: what the work costs a busy machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(kind: str, csv_path: Path, work: Path) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(csv_path), str(work)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_100_000, help="about 95 bytes per row")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", nargs=3, metavar=("KIND", "CSV", "WORK"), help=argparse.SUPPRESS)
    parser.add_argument("--make", metavar="CSV", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make:
        make_csv(Path(args.make), args.rows)
        return
    if args.child:
        kind, csv_path, work = args.child
        child(kind, Path(csv_path), Path(work))
        return

    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        work = Path(tmp)
        csv_path = work / "data.csv"
        print(f"generating {args.rows:,} rows ...", flush=True)
        subprocess.run(
            [sys.executable, __file__, "--make", str(csv_path), "--rows", str(args.rows)],
            check=True,
        )
        size = csv_path.stat().st_size
        runs: dict[str, list[dict]] = {"studio": [], "pandas": []}
        for i in range(args.runs):
            for kind in ("studio", "pandas"):
                result = measure(kind, csv_path, work)
                runs[kind].append(result)
                print(
                    f"run {i + 1} {kind:6s} {result['seconds']:.3f} s  "
                    f"cpu {result['cpu_seconds']:.3f} s  {result['peak_rss'] / 2**20:.0f} MiB",
                    flush=True,
                )
    figures = summarise(runs, size, args.rows)
    print(json.dumps(figures, indent=2))
    write_readme(figures)


def summarise(runs: dict[str, list[dict]], size: int, rows: int) -> dict:
    med = {
        kind: {
            key: statistics.median(r[key] for r in results)
            for key in ("seconds", "cpu_seconds", "peak_rss")
        }
        for kind, results in runs.items()
    }
    import numpy  # only now: the parent's own RSS must stay small while children run
    import pandas
    import pyarrow

    return {
        "file_bytes": size,
        "rows": rows,
        "runs": len(runs["studio"]),
        "studio": med["studio"],
        "pandas": med["pandas"],
        "time_ratio": med["studio"]["seconds"] / med["pandas"]["seconds"],
        "cpu_ratio": med["studio"]["cpu_seconds"] / med["pandas"]["cpu_seconds"],
        "load_average": os.getloadavg()[0],
        "studio_rss_over_file": med["studio"]["peak_rss"] / size,
        "pandas_rss_over_file": med["pandas"]["peak_rss"] / size,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "versions": f"pyarrow {pyarrow.__version__}, pandas {pandas.__version__}, "
        f"numpy {numpy.__version__}",
    }


def write_readme(f: dict) -> None:
    mib = 2**20
    ok_time = "met" if f["time_ratio"] <= TIME_TARGET else "MISSED"
    ok_rss = "met" if f["studio_rss_over_file"] <= RSS_TARGET else "MISSED"
    section = "\n".join(
        [
            START,
            f"Last run: {time.strftime('%Y-%m-%d')}, {f['machine']}; {f['versions']}.",
            f"File: {f['file_bytes'] / mib:.1f} MiB, {f['rows']:,} rows x 13 columns; "
            f"median of {f['runs']} runs each.",
            "",
            "| | wall time | CPU time | peak RSS | peak RSS / file size |",
            "|---|---|---|---|---|",
            f"| studio `ingest_file` | {f['studio']['seconds']:.2f} s "
            f"| {f['studio']['cpu_seconds']:.2f} s "
            f"| {f['studio']['peak_rss'] / mib:.0f} MiB | {f['studio_rss_over_file']:.2f}x |",
            f"| baseline `pd.read_csv` + `describe()` | {f['pandas']['seconds']:.2f} s "
            f"| {f['pandas']['cpu_seconds']:.2f} s "
            f"| {f['pandas']['peak_rss'] / mib:.0f} MiB | {f['pandas_rss_over_file']:.2f}x |",
            "",
            f"- Time, studio / pandas: **{f['time_ratio']:.2f}x** "
            f"(target <= {TIME_TARGET:.1f}x: {ok_time}); CPU time {f['cpu_ratio']:.2f}x. "
            f"Load average when the run ended: {f['load_average']:.1f} on "
            f"{os.cpu_count()} cores.",
            f"- Studio peak RSS / file size: **{f['studio_rss_over_file']:.2f}x** "
            f"(target <= {RSS_TARGET:.0f}x: {ok_rss}).",
            END,
        ]
    )
    text = README.read_text() if README.exists() else ""
    if START in text and END in text:
        before, rest = text.split(START, 1)
        text = before + section + rest.split(END, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    README.write_text(text)


if __name__ == "__main__":
    main()
