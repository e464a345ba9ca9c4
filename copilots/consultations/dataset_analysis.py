"""Dataset analysis: missing values, constant, ID-like and high-cardinality columns, the target,
class imbalance, and leakage suspects (a column that alone almost predicts the target)."""

from __future__ import annotations

from typing import Any

from copilots import prompting
from copilots.consultations.base import narrative
from copilots.numbers import fmt
from copilots.rules.columns import (
    class_counts,
    guess_task,
    has_target_name,
    is_constant,
    is_high_cardinality,
    is_id_like,
    is_mostly_missing,
    top_classes,
)
from copilots.rules.imbalance import imbalance_severity, is_imbalanced, minority_share
from copilots.rules.leakage import leakage_suspects
from copilots.rules.risks import risk, sort_risks
from engine.models import Dataset

TYPE = "dataset_analysis"
ROLE = "dataset analyst copilot"


def check(dataset: Dataset) -> None:
    return None


def links(dataset: Dataset) -> dict[str, Any]:
    return {"dataset": dataset, "project": dataset.project}


# Evidence.


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
        if has_target_name(column["name"]):
            add(column["name"], "its name is a usual target name")
    if dataset.columns:
        add(dataset.columns[-1]["name"], "the last column, where targets usually are")
    return candidates[:5]


def _target_summary(dataset: Dataset, name: str, source: str) -> dict[str, Any]:
    column = dataset.column(name) or {}
    task = guess_task(column)
    summary: dict[str, Any] = {"column": name, "source": source, "task_guess": task}
    if task == "classification":
        counts = class_counts(dataset, name)
        share = minority_share(counts)
        if share is not None:
            summary.update(
                n_classes=len(counts),
                classes=top_classes(counts),
                minority_share=round(share, 4),
                imbalanced=is_imbalanced(share),
            )
    else:
        summary.update({k: column.get(k) for k in ("min", "max", "mean", "std")})
    return summary


def build_evidence(dataset: Dataset, *, target: str | None = None, **_: Any) -> dict[str, Any]:
    n_rows = dataset.n_rows
    columns: list[dict[str, Any]] = []
    missing, constant, id_like, high_card = [], [], [], []
    for column in dataset.columns:
        name = column["name"]
        shown = prompting.cap_name(name)
        miss = column.get("missing") or 0
        unique = column.get("unique") or 0
        summary = {
            "name": shown,
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
            missing.append({"column": shown, "missing": miss, "share": round(miss / n_rows, 4)})
        if is_constant(column):
            constant.append(name)
        elif is_id_like(column, n_rows):
            id_like.append(name)
        elif is_high_cardinality(column):
            high_card.append({"column": shown, "unique": unique})
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
            "constant": [prompting.cap_name(n) for n in constant],
            "id_like": [prompting.cap_name(n) for n in id_like],
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
    severity = imbalance_severity(share)
    if severity:
        risks.append(
            risk(
                "class imbalance",
                severity,
                f"the smallest class of '{target['column']}' is {share:.1%} of the rows",
            )
        )
    heavy = [m for m in f["missing"] if is_mostly_missing(m["share"])]
    light = [m for m in f["missing"] if not is_mostly_missing(m["share"])]
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
        heavy = [m["column"] for m in f["missing"] if is_mostly_missing(m["share"])]
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
    return {**narrative(reply, offline), "risks": offline["risks"]}, []
