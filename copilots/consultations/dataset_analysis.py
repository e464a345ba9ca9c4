"""Dataset analysis: missing values, constant, ID-like and high-cardinality columns, the target,
class imbalance, and leakage suspects (a column that alone almost predicts the target)."""

from __future__ import annotations

import logging
import re
from typing import Any

import numpy as np

from copilots import prompting
from copilots.consultations.base import fmt, risk, sort_risks
from engine.models import Dataset

logger = logging.getLogger(__name__)

TYPE = "dataset_analysis"
ROLE = "dataset analyst copilot"

TARGET_NAMES = (
    "target",
    "label",
    "class",
    "y",
    "outcome",
    "churn",
    "churned",
    "default",
    "survived",
    "fraud",
    "is_fraud",
    "diagnosis",
    "price",
)
ID_NAME = re.compile(r"(^|[_\s\-.])(id|uuid|guid|key|index|idx)$|^id[_\s\-.]|^(row|record)", re.I)
HIGH_CARDINALITY = 50
CLASSIFICATION_MAX_UNIQUE = 20
IMBALANCED_SHARE = 0.2
SEVERE_IMBALANCE_SHARE = 0.05
LEAKAGE_SCORE = 0.98
LEAKAGE_SAMPLE_ROWS = 20_000
LEAKAGE_MAX_FEATURES = 200


def check(dataset: Dataset) -> None:
    return None


def links(dataset: Dataset) -> dict[str, Any]:
    return {"dataset": dataset, "project": dataset.project}


# Evidence.


def _is_id_like(column: dict[str, Any], n_rows: int) -> bool:
    unique = column.get("unique") or 0
    if n_rows < 2 or unique < n_rows:
        return False
    kind, dtype = column.get("kind"), str(column.get("dtype", ""))
    return bool(ID_NAME.search(str(column.get("name", "")))) or (
        kind == "categorical" or dtype.startswith(("int", "uint"))
    )


def guess_task(column: dict[str, Any]) -> str:
    kind = column.get("kind")
    if kind in ("categorical", "boolean"):
        return "classification"
    dtype = str(column.get("dtype", ""))
    unique = column.get("unique") or 0
    if kind == "numeric" and (
        unique <= 2 or (dtype.startswith(("int", "uint")) and unique <= CLASSIFICATION_MAX_UNIQUE)
    ):
        return "classification"
    return "regression"


def _target_candidates(dataset: Dataset, excluded: set[str]) -> list[dict[str, str]]:
    candidates: list[dict[str, str]] = []
    seen: set[str] = set()

    def add(name: str, reason: str) -> None:
        if name and name not in seen and name not in excluded and dataset.column(name):
            seen.add(name)
            candidates.append({"column": name, "reason": reason})

    for experiment in dataset.experiments.order_by("-created_at")[:5]:
        add(experiment.target, f"the target of experiment “{experiment.name}”")
    for column in dataset.columns:
        if str(column["name"]).strip().lower() in TARGET_NAMES:
            add(column["name"], "its name is a usual target name")
    if dataset.columns:
        add(dataset.columns[-1]["name"], "the last column, where targets usually are")
    return candidates[:5]


def _class_counts(dataset: Dataset, column: str) -> dict[str, int]:
    from engine.selectors.datasets import dataset_class_counts

    try:
        return dataset_class_counts(dataset, column)
    except Exception:  # the Parquet copy is missing or unreadable: no counts, not a crash
        logger.warning("class counts unavailable for dataset %s", dataset.pk, exc_info=True)
        return {}


def _target_summary(dataset: Dataset, name: str, source: str) -> dict[str, Any]:
    column = dataset.column(name) or {}
    task = guess_task(column)
    summary: dict[str, Any] = {"column": name, "source": source, "task_guess": task}
    if task == "classification":
        counts = _class_counts(dataset, name)
        total = sum(counts.values())
        if counts and total:
            ordered = sorted(counts.items(), key=lambda kv: -kv[1])
            minority = min(counts.values()) / total
            summary.update(
                n_classes=len(counts),
                classes=dict(ordered[:20]),
                minority_share=round(minority, 4),
                imbalanced=minority < IMBALANCED_SHARE,
            )
    else:
        summary.update({k: column.get(k) for k in ("min", "max", "mean", "std")})
    return summary


def _sample_frame(dataset: Dataset, columns: list[str]):
    """At most LEAKAGE_SAMPLE_ROWS evenly spaced rows, read batch by batch (bounded memory)."""
    import math

    import pyarrow as pa
    import pyarrow.parquet as pq

    from engine.selectors.datasets import dataset_parquet_path

    with pq.ParquetFile(dataset_parquet_path(dataset)) as parquet:
        total = parquet.metadata.num_rows
        step = max(1, math.ceil(total / LEAKAGE_SAMPLE_ROWS))
        kept, offset = [], 0
        for batch in parquet.iter_batches(batch_size=65_536, columns=columns):
            first = (-offset) % step
            kept.append(batch.take(np.arange(first, batch.num_rows, step)))
            offset += batch.num_rows
    if not kept:
        import pandas as pd

        return pd.DataFrame(columns=columns)
    return pa.Table.from_batches(kept).to_pandas()


def _stump_accuracy(x: np.ndarray, y: np.ndarray) -> float:
    """Accuracy of the best one-threshold split of numeric `x` predicting class codes `y`."""
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    n, k = len(y), int(y.max()) + 1
    onehot = np.zeros((n, k), dtype=np.int64)
    onehot[np.arange(n), y] = 1
    left = np.cumsum(onehot, axis=0)
    right = left[-1] - left
    # split after position i only where the value changes
    valid = np.nonzero(x[1:] != x[:-1])[0]
    if valid.size == 0:
        return float(left[-1].max() / n)
    correct = left[valid].max(axis=1) + right[valid].max(axis=1)
    return float(correct.max() / n)


def _purity(groups: np.ndarray, y: np.ndarray) -> float:
    """Share of rows whose class is their group's majority class."""
    import pandas as pd

    table = pd.crosstab(groups, y)
    return float(table.max(axis=1).sum() / len(y))


def _correlation_ratio(groups: np.ndarray, y: np.ndarray) -> float:
    import pandas as pd

    frame = pd.DataFrame({"g": groups, "y": y})
    total = float(((y - y.mean()) ** 2).sum())
    if total == 0:
        return 0.0
    means = frame.groupby("g")["y"].transform("mean").to_numpy()
    return float(((means - y.mean()) ** 2).sum() / total)


def leakage_suspects(
    dataset: Dataset, target: str, task: str, skip: set[str]
) -> tuple[list[dict[str, Any]], str | None]:
    """Features that alone predict the target almost perfectly, each with its test and score."""
    import pandas as pd

    features = [
        c
        for c in dataset.columns
        if c["name"] != target and c["name"] not in skip and c.get("kind") != "datetime"
    ][:LEAKAGE_MAX_FEATURES]
    if not features:
        return [], None
    try:
        frame = _sample_frame(dataset, [target, *[c["name"] for c in features]])
    except Exception as exc:
        logger.warning("leakage check skipped for dataset %s: %s", dataset.pk, exc)
        return [], "The Parquet copy could not be read, so leakage was not checked."
    frame = frame[frame[target].notna()]
    n = len(frame)
    if n < 10:
        return [], "Too few rows with a target value to check for leakage."
    suspects: list[dict[str, Any]] = []
    if task == "classification":
        y = pd.factorize(frame[target].astype(str))[0]
        baseline = float(np.bincount(y).max() / n)
    else:
        y = pd.to_numeric(frame[target], errors="coerce").to_numpy(dtype=float)
        baseline = 0.0
    for column in features:
        name = column["name"]
        series = frame[name]
        numeric = column.get("kind") in ("numeric", "boolean")
        present = series.notna().to_numpy()
        if present.sum() < max(10, 0.5 * n):
            continue
        try:
            if task == "classification":
                if numeric:
                    x = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
                    keep = ~np.isnan(x)
                    score = _stump_accuracy(x[keep], pd.factorize(y[keep])[0])
                    test = "single-feature decision stump accuracy"
                else:
                    if (column.get("unique") or 0) > n / 10:
                        continue  # nearly unique values are trivially "pure"
                    score = _purity(series.astype(str).to_numpy(), y)
                    test = "category purity (rows in their category's majority class)"
                improvement = (score - baseline) / (1 - baseline) if baseline < 1 else 0.0
                if score >= LEAKAGE_SCORE and improvement >= 0.8:
                    suspects.append(
                        {
                            "column": name,
                            "test": test,
                            "score": round(score, 4),
                            "baseline": round(baseline, 4),
                        }
                    )
            else:
                keep = present & ~np.isnan(y)
                if numeric:
                    x = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
                    keep &= ~np.isnan(x)
                    if keep.sum() < 10 or np.std(x[keep]) == 0 or np.std(y[keep]) == 0:
                        continue
                    score = abs(float(np.corrcoef(x[keep], y[keep])[0, 1]))
                    test = "absolute Pearson correlation with the target"
                else:
                    if (column.get("unique") or 0) > n / 10:
                        continue
                    score = _correlation_ratio(series[keep].astype(str).to_numpy(), y[keep])
                    test = "share of target variance explained by the category (eta squared)"
                if score >= LEAKAGE_SCORE:
                    suspects.append({"column": name, "test": test, "score": round(score, 4)})
        except (ValueError, TypeError, IndexError, MemoryError) as exc:
            logger.info("leakage test failed on %r: %s", name, exc)
    suspects.sort(key=lambda s: -s["score"])
    return suspects, None


def build_evidence(dataset: Dataset, *, target: str | None = None, **_: Any) -> dict[str, Any]:
    n_rows = dataset.n_rows
    columns: list[dict[str, Any]] = []
    missing, constant, id_like, high_card = [], [], [], []
    for column in dataset.columns:
        name = column["name"]
        miss = column.get("missing") or 0
        unique = column.get("unique") or 0
        summary = {
            "name": name,
            "kind": column.get("kind"),
            "dtype": column.get("dtype"),
            "missing": miss,
            "unique": unique,
        }
        if column.get("kind") == "numeric":
            summary.update({k: column.get(k) for k in ("min", "max", "mean", "std")})
        elif column.get("top"):
            summary["top"] = [
                {"value": str(t.get("value"))[:80], "count": t.get("count")}
                for t in column["top"][:3]
            ]
        columns.append(summary)
        if miss:
            missing.append({"column": name, "missing": miss, "share": round(miss / n_rows, 4)})
        if unique <= 1:
            constant.append(name)
        elif _is_id_like(column, n_rows):
            id_like.append(name)
        elif column.get("kind") == "categorical" and unique > HIGH_CARDINALITY:
            high_card.append({"column": name, "unique": unique})
    missing.sort(key=lambda m: -m["share"])
    excluded = set(constant) | set(id_like)
    candidates = _target_candidates(dataset, excluded)
    notes: list[str] = []
    target_info = None
    if target and dataset.column(target):
        target_info = _target_summary(dataset, target, "given")
    elif target:
        notes.append(f"The requested target {target!r} is not a column of this dataset.")
    if target_info is None and candidates:
        target_info = _target_summary(dataset, candidates[0]["column"], "guessed")
    leaks: list[dict[str, Any]] = []
    if target_info is not None:
        leaks, note = leakage_suspects(
            dataset, target_info["column"], target_info["task_guess"], excluded
        )
        if note:
            notes.append(note)
    return {
        "dataset": {
            "id": dataset.pk,
            "name": dataset.name,
            "n_rows": n_rows,
            "n_cols": dataset.n_cols,
            "source_format": dataset.source_format,
        },
        "columns": columns[:200],
        "findings": {
            "missing": missing,
            "constant": constant,
            "id_like": id_like,
            "high_cardinality": high_card,
            "target": target_info,
            "target_candidates": candidates,
            "leakage_suspects": leaks,
        },
        "ingest_warnings": [str(w) for w in dataset.warnings][:20],
        "notes": notes,
    }


# Messages and parsing.


def build_messages(evidence: dict[str, Any]) -> list[dict[str, str]]:
    return [
        prompting.system_message(
            role=ROLE,
            task=(
                "You review a tabular dataset before anyone trains on it: missing values, "
                "constant, ID-like and high-cardinality columns, leakage suspects (columns that "
                "almost perfectly predict the target), target candidates and class imbalance. "
                "The findings in the evidence were computed deterministically; explain them and "
                "say what to do about each."
            ),
            contract=prompting.BASE_CONTRACT,
        ),
        prompting.user_message(
            "Analyse this dataset. The evidence holds its column profile and computed findings.",
            {"evidence": evidence},
        ),
    ]


def parse(text: str) -> dict[str, Any]:
    return prompting.normalise_common(prompting.parse_reply(text))


# Offline advice.


def _names(items: list[str], limit: int = 6) -> str:
    shown = ", ".join(f"'{i}'" for i in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def deterministic_risks(evidence: dict[str, Any]) -> list[dict[str, str]]:
    f = evidence["findings"]
    risks = []
    for leak in f["leakage_suspects"]:
        risks.append(
            risk(
                f"leakage suspect: {leak['column']}",
                "high",
                f"{leak['test']} = {fmt(leak['score'])} for target '{f['target']['column']}'",
            )
        )
    if f["id_like"]:
        risks.append(
            risk(
                "ID-like columns",
                "medium",
                f"{_names(f['id_like'])}: a different value in every row",
            )
        )
    target = f.get("target") or {}
    share = target.get("minority_share")
    if share is not None and share < IMBALANCED_SHARE:
        severity = "high" if share < SEVERE_IMBALANCE_SHARE else "medium"
        risks.append(
            risk(
                "class imbalance",
                severity,
                f"the smallest class of '{target['column']}' is {share:.1%} of the rows",
            )
        )
    heavy = [m for m in f["missing"] if m["share"] >= 0.5]
    light = [m for m in f["missing"] if m["share"] < 0.5]
    if heavy:
        risks.append(
            risk(
                "mostly-missing columns",
                "medium",
                ", ".join(f"'{m['column']}' {m['share']:.0%} missing" for m in heavy[:6]),
            )
        )
    if light:
        risks.append(
            risk(
                "missing values",
                "low",
                ", ".join(f"'{m['column']}' {m['share']:.1%}" for m in light[:6])
                + (f" and {len(light) - 6} more" if len(light) > 6 else ""),
            )
        )
    if f["constant"]:
        risks.append(
            risk("constant columns", "low", f"{_names(f['constant'])}: one value (or none)")
        )
    if f["high_cardinality"]:
        risks.append(
            risk(
                "high-cardinality categories",
                "low",
                ", ".join(
                    f"'{h['column']}' ({h['unique']} values)" for h in f["high_cardinality"][:6]
                ),
            )
        )
    return sort_risks(risks)


def offline_advice(evidence: dict[str, Any]) -> dict[str, Any]:
    d, f = evidence["dataset"], evidence["findings"]
    sentences = [f"{d['name']} has {d['n_rows']} rows and {d['n_cols']} columns."]
    recommendations: list[str] = []
    target = f.get("target")
    if target:
        how = "chosen" if target["source"] == "given" else "guessed"
        line = (
            f"The target ({how}) is '{target['column']}', which looks like {target['task_guess']}"
        )
        if target.get("n_classes"):
            line += (
                f" with {target['n_classes']} classes; the smallest is "
                f"{target['minority_share']:.1%} of the rows"
            )
        sentences.append(line + ".")
        others = [c["column"] for c in f["target_candidates"] if c["column"] != target["column"]]
        if others:
            sentences.append(f"Other target candidates: {_names(others)}.")
        if target.get("imbalanced"):
            recommendations.append(
                f"'{target['column']}' is imbalanced: sort models by F1 or AUC rather than "
                "Accuracy, and consider fix_imbalance=True."
            )
    else:
        sentences.append("No target candidate stands out.")
    if f["leakage_suspects"]:
        cols = [s["column"] for s in f["leakage_suspects"]]
        sentences.append(
            f"Leakage suspects: {_names(cols)} alone predict the target almost perfectly."
        )
        recommendations.insert(
            0,
            f"Check how {_names(cols)} are produced: if they are known only after the outcome, "
            "list them in ignore_features.",
        )
    if f["id_like"]:
        sentences.append(f"ID-like columns: {_names(f['id_like'])}.")
        recommendations.append(
            f"Add the ID-like columns {_names(f['id_like'])} to ignore_features; "
            "they cannot generalise."
        )
    if f["constant"]:
        sentences.append(f"Constant columns: {_names(f['constant'])}.")
        recommendations.append(f"Drop or ignore the constant columns {_names(f['constant'])}.")
    if f["missing"]:
        worst = f["missing"][0]
        sentences.append(
            f"{len(f['missing'])} column(s) have missing values; the worst is "
            f"'{worst['column']}' at {worst['share']:.1%}."
        )
        heavy = [m["column"] for m in f["missing"] if m["share"] >= 0.5]
        if heavy:
            recommendations.append(
                f"{_names(heavy)} are mostly empty: ignore them unless missingness itself "
                "carries signal."
            )
        recommendations.append(
            "Keep PyCaret's imputation on (imputation_type='simple'); try median for skewed "
            "numeric columns."
        )
    else:
        sentences.append("No column has missing values.")
    if f["high_cardinality"]:
        cols = [h["column"] for h in f["high_cardinality"]]
        sentences.append(f"High-cardinality categorical columns: {_names(cols)}.")
        recommendations.append(
            f"Group rare values of {_names(cols)} or ignore them; one-hot encoding them "
            "creates many sparse features."
        )
    if not recommendations:
        recommendations.append("The data looks ready: design an experiment on it.")
    sentences.extend(evidence.get("notes") or [])
    return {
        "reasoning_summary": " ".join(sentences),
        "recommendations": recommendations,
        "risks": deterministic_risks(evidence),
    }


def finalize(
    reply: dict[str, Any], evidence: dict[str, Any], offline: dict[str, Any], obj: Any
) -> tuple[dict[str, Any], list[str]]:
    """The computed findings stay: the model writes the narrative, not the risk list."""
    advice = {
        "reasoning_summary": reply["reasoning_summary"] or offline["reasoning_summary"],
        "recommendations": reply["recommendations"] or offline["recommendations"],
        "risks": offline["risks"],
    }
    return advice, []
