"""Failure debugging: classify a failed run as DATA, CONFIG or ENGINE and say how to fix it.

The category is the run's own (the runner records one) or, for older rows without it, classified
from the error. For CONFIG mistakes it names the valid alternatives and suggests a corrected
plan, validated against the engine's plan schema.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

import pydantic

from copilots import prompting
from copilots.consultations.base import NotApplicable, event_excerpt, narrative, run_brief
from copilots.rules.failures import CATEGORIES, classify
from copilots.rules.plans import unknown_metrics, unknown_model_ids
from copilots.rules.targets import infer_task, task_mismatch, top_target
from engine.metrics import DEFAULT_METRIC, task_metrics
from engine.model_registry import closest_model_ids, model_choices
from engine.models import Run, RunStatus
from engine.plans import parse_plan

TYPE = "failure_debugging"
ROLE = "failure debugger copilot"
TRACEBACK_CAP = 4_000
MESSAGE_CAP = 2_000
EVENTS_HEAD, EVENTS_TAIL = 5, 35
# Words in an error that say the failure is about the target's values.
TARGET_WORDS = ("continuous", "not numeric", "class", "target")


def check(run: Run) -> None:
    if run.status != RunStatus.FAILED:
        raise NotApplicable(
            f"Run {run.pk} is {run.status}; only a failed run can be diagnosed.",
            code="run_not_failed",
        )


def links(run: Run) -> dict[str, Any]:
    return {"run": run, "experiment": run.experiment, "project": run.experiment.project}


def _replacement_ids(task: str, model_id: str) -> tuple[list[str], bool]:
    """(valid ids to offer, whether they are near matches of `model_id`)."""
    close = closest_model_ids(task, model_id)
    if close:
        return close, True
    return [m for m, _ in model_choices(task)][:5], False


def _config_help(run: Run) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """What is wrong in the plan, with valid alternatives, and a corrected plan if one helps."""
    task = run.experiment.task
    plan = dict(run.plan or {})
    help_: dict[str, Any] = {}
    corrected = dict(plan)
    unknown = []
    for field, model_id in unknown_model_ids(task, plan):
        alternatives, near = _replacement_ids(task, model_id)
        unknown.append(
            {"field": field, "model_id": model_id, "closest": alternatives, "near_match": near}
        )
        replacement = alternatives[0] if alternatives else None
        if replacement is None:
            continue
        if field == "model_id":
            corrected["model_id"] = replacement
        else:
            values = [replacement if v == model_id else v for v in corrected.get(field) or []]
            corrected[field] = list(dict.fromkeys(values))
    if unknown:
        help_["unknown_model_ids"] = unknown
        help_["valid_model_ids"] = [m for m, _ in model_choices(task)]
    for field, metric in unknown_metrics(task, plan):
        help_.setdefault("unknown_metrics", []).append({"field": field, "metric": metric})
        help_["valid_metrics"] = sorted(task_metrics(task))
        corrected[field] = DEFAULT_METRIC.get(task)
    suggestion = None
    if corrected != plan:
        try:
            suggestion = {"plan": parse_plan(corrected).model_dump(mode="json", exclude_none=True)}
        except pydantic.ValidationError:
            suggestion = None
    return help_, suggestion


def _data_help(run: Run, message: str) -> dict[str, Any]:
    dataset = run.experiment.dataset
    columns = [str(c) for c in dataset.column_names]
    help_: dict[str, Any] = {}
    target = run.experiment.target
    if target and target not in columns:
        top = top_target(dataset.columns, dataset.n_rows, dataset_name=dataset.name)
        help_["target_missing"] = {
            "target": target,
            "closest_columns": difflib.get_close_matches(target, columns, n=3),
            "top_candidate": top["column"] if top else None,
        }
    quoted = re.findall(r"'([^']{1,200})'", message)
    named = [q for q in quoted if q in columns]
    if named:
        help_["columns_named_in_error"] = named[:10]
    return help_


def _experiment_facts(run: Run) -> dict[str, Any]:
    """What the experiment and its data say: its warnings, the target's profile, and the task
    the rule book infers from that profile."""
    experiment = run.experiment
    dataset = experiment.dataset
    profile = dataset.column(experiment.target)
    facts: dict[str, Any] = {
        "task": experiment.task,
        "target": experiment.target,
        "setup_options": experiment.setup_options,
        "warnings": [str(w) for w in experiment.warnings][:10],
        "dataset_rows": dataset.n_rows,
    }
    if profile is not None:
        facts["target_profile"] = {
            k: profile.get(k) for k in ("kind", "dtype", "missing", "unique", "min", "max")
        }
        facts["inferred_task"] = infer_task(profile)
        mismatch = task_mismatch(task=experiment.task, target=profile)
        if mismatch is not None:
            facts["task_mismatch"] = mismatch
    return facts


def _plan_for(task: str, plan: dict[str, Any]) -> dict[str, Any]:
    """`plan` without what `task` does not know (model ids, metrics); a comparison if little
    is left of it."""
    plan = dict(plan)
    for field, _metric in unknown_metrics(task, plan):
        plan.pop(field, None)
    unknown = {m for _f, m in unknown_model_ids(task, plan)}
    if plan.get("model_id") in unknown:
        return {"kind": "compare"}
    for field in ("include", "exclude", "model_ids"):
        if plan.get(field):
            plan[field] = [m for m in plan[field] if m not in unknown] or None
            if plan[field] is None:
                plan.pop(field)
    if plan.get("kind") == "blend" and "model_ids" not in plan and "top_n" not in plan:
        return {"kind": "compare"}
    return plan


def _corrected_experiment(run: Run, facts: dict[str, Any], data_help: dict[str, Any]):
    """A corrected experiment (and plan) when the failure is about the target, validated like
    the designer's; None when nothing in the data points at a fix."""
    from copilots.consultations.experiment_design import validate_config

    experiment = run.experiment
    dataset = experiment.dataset
    message = (run.error_message or "").lower()
    missing = data_help.get("target_missing")
    if missing:
        target = (missing["closest_columns"] or [missing["top_candidate"]])[0]
        if not target:
            return None
        task = infer_task(dataset.column(target) or {})
        why = f"the target '{missing['target']}' is not a column; '{target}' is"
    elif "task_mismatch" in facts and any(w in message for w in TARGET_WORDS):
        target, task = experiment.target, facts["task_mismatch"]["task"]
        why = facts["task_mismatch"]["reason"]
    else:
        return None
    setup = dict(experiment.setup_options or {})
    if task == "regression":
        for option in ("fix_imbalance", "data_split_stratify"):
            setup.pop(option, None)
        if setup.get("fold_strategy") == "stratifiedkfold":
            setup.pop("fold_strategy")
    config = {
        "experiment": {
            "name": f"{experiment.name} ({task})"[:200],
            "task": task,
            "target": target,
            "setup": setup,
        },
        "plan": _plan_for(task, run.plan or {}),
    }
    config, problems = validate_config(config, dataset)
    if config is None:
        return None
    return {**config, "why": why}


def build_evidence(run: Run, **_: Any) -> dict[str, Any]:
    recorded = run.error_category if run.error_category in CATEGORIES else ""
    if recorded:
        category, reason = recorded, "recorded by the runner"
    else:
        category, reason = classify(run.error_type, run.error_message)
    config_help, suggestion = _config_help(run)
    if config_help and category != "CONFIG" and not recorded:
        category, reason = "CONFIG", "the plan names model ids or metrics that do not exist"
    traceback = run.error_traceback or ""
    facts = _experiment_facts(run)
    data_help = _data_help(run, run.error_message)
    evidence: dict[str, Any] = {
        "run": run_brief(run),
        "error": {
            "category_recorded": recorded or None,
            "type": run.error_type,
            "message": run.error_message[:MESSAGE_CAP],
            "traceback_tail": traceback[-TRACEBACK_CAP:],
            "traceback_chars": len(traceback),
        },
        "classification": {"category": category, "reason": reason},
        "experiment": facts,
        "events": event_excerpt(run, EVENTS_HEAD, EVENTS_TAIL),
    }
    if config_help:
        evidence["config_help"] = config_help
    corrected = None if suggestion is not None else _corrected_experiment(run, facts, data_help)
    if suggestion is not None:
        evidence["corrected_config"] = suggestion
    elif corrected is not None:
        why = corrected.pop("why")
        evidence["corrected_config"] = corrected
        evidence["correction_reason"] = why
    if data_help:
        evidence["data_help"] = data_help
    return evidence


CONTRACT = (
    prompting.BASE_CONTRACT
    + """
- "category": "DATA", "CONFIG" or "ENGINE" (DATA: fix the dataset or target; CONFIG: fix the \
plan or setup options; ENGINE: the engine or worker failed);
- "reasoning_summary" must start with the category label, like "CONFIG: ...";
- "suggested_config": optional, {"plan": a corrected plan} for CONFIG failures, using only \
valid model ids and metrics from the evidence."""
)


def build_messages(evidence: dict[str, Any]) -> list[dict[str, str]]:
    return [
        prompting.system_message(
            role=ROLE,
            task=(
                "You diagnose a failed PyCaret Studio run from its error, traceback and event "
                "stream, classify it as DATA, CONFIG or ENGINE, and say how to fix it. For "
                "CONFIG failures, name the valid alternatives given in the evidence."
            ),
            contract=CONTRACT,
        ),
        prompting.user_message("Diagnose this failed run.", {"evidence": evidence}),
    ]


def parse(text: str) -> dict[str, Any]:
    reply = prompting.parse_reply(text)
    parsed = prompting.normalise_common(reply)
    category = str(reply.get("category") or "").strip().upper()
    parsed["category"] = category if category in CATEGORIES else None
    parsed["suggested_config"] = reply.get("suggested_config")
    return parsed


_LABEL = re.compile(r"^\s*\**(DATA|CONFIG|ENGINE)\**\s*[:\-—]\s*")


def _with_label(category: str, summary: str) -> str:
    """`summary` opening with `category`, replacing any other label it opened with."""
    return f"{category}: {_LABEL.sub('', summary.strip(), count=1)}"


def offline_advice(evidence: dict[str, Any]) -> dict[str, Any]:
    category = evidence["classification"]["category"]
    error = evidence["error"]
    run = evidence["run"]
    task = run["task"]
    sentences = [
        f"Run {run['id']} failed with {error['type'] or 'an error'}: "
        f"{error['message'][:400] or 'no message'}."
    ]
    recommendations: list[str] = []
    config_help = evidence.get("config_help") or {}
    for item in config_help.get("unknown_model_ids", []):
        ids = ", ".join(item["closest"])
        if item["near_match"]:
            sentences.append(
                f"'{item['model_id']}' is not a {task} model id; the closest valid ids are {ids}."
            )
        else:
            sentences.append(
                f"'{item['model_id']}' is not a {task} model id and no valid id looks like it; "
                f"valid ids include {ids}."
            )
        recommendations.append(
            f"Replace '{item['model_id']}' in plan.{item['field']} with a valid id such as "
            f"{item['closest'][0] if item['closest'] else 'lr'}."
        )
    for item in config_help.get("unknown_metrics", []):
        valid = ", ".join(config_help.get("valid_metrics", []))
        sentences.append(f"'{item['metric']}' is not a {task} metric; valid ones: {valid}.")
        recommendations.append(f"Set plan.{item['field']} to one of: {valid}.")
    data_help = evidence.get("data_help") or {}
    facts = evidence.get("experiment") or {}
    if "target_missing" in data_help:
        missing = data_help["target_missing"]
        close = ", ".join(f"'{c}'" for c in missing["closest_columns"]) or "none"
        sentences.append(f"The target '{missing['target']}' is not a column (closest: {close}).")
        recommendations.append("Create a new experiment with an existing target column.")
    mismatch = facts.get("task_mismatch")
    if mismatch:
        sentences.append(f"The data says: {mismatch['reason']}.")
    warnings = facts.get("warnings") or []
    if warnings:
        sentences.append("The experiment warned when it was created: " + " ".join(warnings[:2]))
    if evidence.get("correction_reason"):
        config = evidence["corrected_config"]["experiment"]
        recommendations.insert(
            0,
            f"Create a {config['task']} experiment on '{config['target']}' "
            f"({evidence['correction_reason']}): Apply fills in the form below.",
        )
    if category == "DATA" and not recommendations:
        recommendations.append(
            "Fix the dataset (or choose another target) as the error describes, upload it "
            "again and re-run."
        )
    elif category == "CONFIG" and not recommendations:
        recommendations.append(
            "Change the plan or the experiment's setup options as the error describes, then re-run."
        )
    elif category == "ENGINE":
        recommendations.append(
            "The engine or its worker failed, not your data or plan: re-run it; if it fails "
            "again, try fewer models, a smaller fold or a time budget, and tell the operator."
        )
    if evidence.get("corrected_config") and not evidence.get("correction_reason"):
        recommendations.append("Re-run with the suggested plan below: Apply fills in the form.")
    summary = " ".join(sentences)
    advice: dict[str, Any] = {
        "category": category,
        "reasoning_summary": _with_label(category, summary),
        "recommendations": recommendations,
    }
    if evidence.get("corrected_config"):
        advice["suggested_config"] = evidence["corrected_config"]
    return advice


def _validate_plan_suggestion(suggestion: Any, task: str) -> dict[str, Any] | None:
    if not isinstance(suggestion, dict) or not isinstance(suggestion.get("plan"), dict):
        return None
    try:
        plan = parse_plan(suggestion["plan"]).model_dump(mode="json", exclude_none=True)
    except pydantic.ValidationError:
        return None
    if unknown_model_ids(task, plan) or unknown_metrics(task, plan, allow_time=False):
        return None
    return {"plan": plan}


def finalize(
    reply: dict[str, Any], evidence: dict[str, Any], offline: dict[str, Any], obj: Any
) -> tuple[dict[str, Any], list[str]]:
    notes: list[str] = []
    category = evidence["classification"]["category"]
    if reply.get("category") and reply["category"] != category:
        notes.append(
            f"The model called this {reply['category']}; the category recorded for the run, "
            f"{category}, stands."
        )
    advice: dict[str, Any] = {"category": category, **narrative(reply, offline)}
    advice["reasoning_summary"] = _with_label(category, advice["reasoning_summary"])
    if offline.get("suggested_config"):
        advice["suggested_config"] = offline["suggested_config"]
    elif reply.get("suggested_config") is not None:
        valid = _validate_plan_suggestion(reply["suggested_config"], evidence["run"]["task"])
        if valid is not None:
            advice["suggested_config"] = valid
        else:
            notes.append("The model's suggested configuration was not valid, so it is not shown.")
    return advice, notes
