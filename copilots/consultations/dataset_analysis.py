"""Dataset analysis: missing values, constant, ID-like and high-cardinality columns, the target,
class imbalance, and leakage suspects (a column that alone almost predicts the target)."""

from __future__ import annotations

from typing import Any

from copilots import prompting
from copilots.consultations.base import narrative
from copilots.rules import tasks
from copilots.rules.columns import (
    class_counts,
    is_constant,
    is_date_like,
    is_high_cardinality,
    is_id_like,
    is_mostly_missing,
    is_near_constant,
    is_year_like,
    top_classes,
)
from copilots.rules.imbalance import (
    describe,
    fair_share_ratio,
    imbalance_risks,
    is_imbalanced,
    minority_share,
)
from copilots.rules.leakage import describe as describe_leak
from copilots.rules.leakage import leakage_risks, leakage_suspects
from copilots.rules.risks import risk, sort_risks
from copilots.rules.targets import disqualified_columns, infer_task, rank_targets
from engine.models import Dataset
from engine.numbers import plural

TYPE = "dataset_analysis"
ROLE = "dataset analyst copilot"
CANDIDATES = 5


def check(dataset: Dataset) -> None:
    return None


def links(dataset: Dataset) -> dict[str, Any]:
    return {"dataset": dataset, "project": dataset.project}


# Evidence.


def target_candidates(dataset: Dataset) -> list[dict[str, Any]]:
    """The rule book's ranking, with the targets of this dataset's experiments moved first:
    a person already chose those."""
    ranked = rank_targets(dataset.columns, dataset.n_rows, dataset_name=dataset.name)
    by_name = {c["column"]: c for c in ranked}
    chosen: list[dict[str, Any]] = []
    for experiment in dataset.experiments.order_by("-created_at")[:5]:
        candidate = by_name.get(experiment.target)
        if candidate is not None and candidate not in chosen:
            reasons = [f"the target of experiment “{experiment.name}”", *candidate["reasons"]]
            chosen.append({**candidate, "reasons": reasons})
    picked = {c["column"] for c in chosen}
    return [*chosen, *(c for c in ranked if c["column"] not in picked)][:CANDIDATES]


def target_summary(dataset: Dataset, name: str, source: str) -> dict[str, Any]:
    column = dataset.column(name) or {}
    task = infer_task(column)
    summary: dict[str, Any] = {"column": name, "source": source, "task_guess": task}
    if task == "classification":
        counts = class_counts(dataset, name)
        share = minority_share(counts)
        if share is not None:
            ratio = fair_share_ratio(counts)
            summary.update(
                n_classes=len(counts),
                classes=top_classes(counts),
                minority_share=round(share, 4),
                fair_share_ratio=round(ratio, 4) if ratio is not None else None,
                imbalanced=is_imbalanced(counts),
                imbalance=describe(counts),
            )
    else:
        summary.update({k: column.get(k) for k in ("min", "max", "mean", "std")})
    return summary


def _column_summary(column: dict[str, Any]) -> dict[str, Any]:
    summary = {k: column.get(k) for k in ("kind", "dtype")}
    summary["name"] = prompting.cap_name(column["name"])
    summary.update(missing=column.get("missing") or 0, unique=column.get("unique") or 0)
    if column.get("kind") == "numeric":
        summary.update({k: column.get(k) for k in ("min", "max", "mean", "std")})
    elif column.get("top"):
        summary["top"] = [
            {"value": str(t.get("value"))[:80], "count": t.get("count")} for t in column["top"][:3]
        ]
    return summary


def build_evidence(dataset: Dataset, *, target: str | None = None, **_: Any) -> dict[str, Any]:
    n_rows = dataset.n_rows
    candidates = target_candidates(dataset)
    series = tasks.series_of(dataset, candidates)
    series_dates = series["date_column"] if series else None
    missing, constant, near_constant, id_like, dates, years, high_card = [], [], [], [], [], [], []
    for column in dataset.columns:
        name = column["name"]
        shown = prompting.cap_name(name)
        miss = column.get("missing") or 0
        if miss:
            missing.append({"column": shown, "missing": miss, "share": round(miss / n_rows, 4)})
        if name == series_dates:
            continue
        if is_constant(column):
            constant.append(name)
        elif is_date_like(column):
            dates.append(name)
        elif is_id_like(column, n_rows):
            id_like.append(name)
        elif is_high_cardinality(column):
            high_card.append({"column": shown, "unique": column.get("unique") or 0})
        elif is_near_constant(column, n_rows):
            near_constant.append(name)
        if is_year_like(column):
            years.append(name)
    missing.sort(key=lambda m: -m["share"])
    notes: list[str] = []
    target_info = None
    if target and dataset.column(target):
        target_info = target_summary(dataset, target, "given")
    elif target:
        notes.append(f"The requested target {target!r} is not a column of this dataset.")
    if target_info is None and candidates:
        target_info = target_summary(dataset, candidates[0]["column"], "guessed")
    if tasks.series_target(target_info, series):
        target_info["task_guess"] = "time_series"
    no_target = tasks.lacks_target(dataset, target_info, series)
    leaks: list[dict[str, Any]] = []
    if target_info is not None and target_info["task_guess"] != "time_series":
        skip = set(constant) | set(id_like)
        leaks, note = leakage_suspects(
            dataset, target_info["column"], target_info["task_guess"], skip
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
        "columns": [_column_summary(c) for c in dataset.columns[:200]],
        "findings": {
            "missing": missing,
            "constant": [prompting.cap_name(n) for n in constant],
            "near_constant": [prompting.cap_name(n) for n in near_constant],
            "id_like": [prompting.cap_name(n) for n in id_like],
            "date_like": [prompting.cap_name(n) for n in dates],
            "year_like": [prompting.cap_name(n) for n in years],
            "high_cardinality": high_card,
            "target": target_info,
            "target_candidates": candidates,
            "not_targets": [
                {**item, "column": prompting.cap_name(item["column"])}
                for item in disqualified_columns(dataset.columns, n_rows, dates=series_dates)
            ],
            "series": series,
            "no_target": no_target,
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
                "say what to do about each. findings.series means forecasting fits (time_series "
                "with that date_column and target); findings.no_target means clustering or "
                "anomaly detection fits."
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
    target = f.get("target") or {}
    risks = leakage_risks(f["leakage_suspects"], target.get("column", ""))
    if f["id_like"]:
        risks.append(
            risk(
                "ID-like columns",
                "medium",
                f"{_names(f['id_like'])}: a different value in every row; add them to "
                "ignore_features",
            )
        )
    if target.get("classes"):
        risks += imbalance_risks(target=target["column"], counts=target["classes"])
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
    if f["near_constant"]:
        risks.append(
            risk(
                "near-constant columns",
                "low",
                f"{_names(f['near_constant'])}: one value in 99% of the rows or more",
            )
        )
    if f["date_like"]:
        risks.append(
            risk(
                "date columns",
                "low",
                f"{_names(f['date_like'])}: dates are not targets; use them as date_features "
                "or derive features from them",
            )
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
    sentences = [
        f"{d['name']} has {plural(d['n_rows'], 'row')} and {plural(d['n_cols'], 'column')}."
    ]
    recommendations: list[str] = []
    target = f.get("target")
    if target:
        how = "chosen" if target["source"] == "given" else "guessed"
        line = (
            f"The target ({how}) is '{target['column']}', which looks like {target['task_guess']}"
        )
        if target.get("n_classes"):
            line += f" with {target['n_classes']} classes; {target['imbalance']}"
        sentences.append(line + ".")
        top = f["target_candidates"][:3]
        if top:
            ranked = "; ".join(f"'{c['column']}' ({', '.join(c['reasons'])})" for c in top)
            sentences.append(f"Top target candidates: {ranked}.")
        ruled_out = [n for n in f["not_targets"] if n["column"] not in f["constant"]]
        if ruled_out:
            sentences.append(
                "Not targets: "
                + "; ".join(f"'{n['column']}' ({n['reason']})" for n in ruled_out[:4])
                + "."
            )
        if target.get("imbalanced"):
            recommendations.append(
                f"'{target['column']}' is imbalanced ({target['imbalance']}): sort models by F1 "
                "or AUC rather than Accuracy, and consider fix_imbalance=True."
            )
        elif target.get("n_classes"):
            sentences.append(
                f"The classes of '{target['column']}' are balanced enough for their number: "
                "leave fix_imbalance off."
            )
    else:
        sentences.append("No target candidate stands out.")
    if f.get("series"):
        sentence, advice = tasks.series_advice(f["series"])
        sentences.append(sentence)
        recommendations.insert(0, advice)
    if f.get("no_target"):
        sentences.append(tasks.no_target_sentence(target))
        recommendations.insert(0, tasks.NO_TARGET_ADVICE)
    if f["leakage_suspects"]:
        for suspect in f["leakage_suspects"][:3]:
            sentences.append(f"Leakage suspect: {describe_leak(suspect, target['column'])}.")
        cols = [s["column"] for s in f["leakage_suspects"]]
        recommendations.insert(
            0,
            f"Check how {_names(cols)} are produced: if they are known only after the outcome, "
            f"add them to ignore_features (ignore_features={cols!r}).",
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
    if f["near_constant"]:
        sentences.append(f"Near-constant columns: {_names(f['near_constant'])}.")
        recommendations.append(
            f"{_names(f['near_constant'])} hold one value in almost every row: ignore them "
            "unless the rare value matters."
        )
    if f["date_like"]:
        sentences.append(f"Date columns: {_names(f['date_like'])}.")
        recommendations.append(
            f"Pass {_names(f['date_like'])} as date_features (or derive month, weekday...) "
            "rather than as categories."
        )
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
