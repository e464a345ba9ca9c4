"""Running the evaluation set: build each case's objects, consult its copilot, read the advice's
judgements, compare them with the expected ones, and print a scorecard per copilot.

Everything a run creates (a throwaway user, rows, Parquet files) lives in one transaction that
is rolled back, with a local storage in a temporary folder (never the studio's own storage, which
may be a bucket) and a private cache, so the database and the stored files are left as they were.
"""

from __future__ import annotations

import re
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.test.utils import override_settings

from copilots.evals.env import Env
from engine.metrics import METRICS
from pycaret_studio.storage_url import LOCAL_STORAGE

COPILOTS = (
    "dataset_analysis",
    "experiment_design",
    "run_explanation",
    "failure_debugging",
    "deployment_review",
    "drift_analysis",
)


@dataclass(frozen=True)
class Has:
    """The actual collection holds `item` (and, for risks, with that severity)."""

    item: Any

    def __repr__(self) -> str:
        return f"has {self.item!r}"


@dataclass(frozen=True)
class Lacks:
    """The actual collection does not hold `item`."""

    item: Any

    def __repr__(self) -> str:
        return f"lacks {self.item!r}"


@dataclass
class Case:
    """One copilot call on objects `build` makes, and the judgements expected of its advice."""

    name: str
    copilot: str
    build: Callable[[Env], tuple[Any, dict[str, Any]]]
    expected: dict[str, Any]


@dataclass
class Result:
    case: Case
    actual: dict[str, Any] = field(default_factory=dict)
    misses: list[tuple[str, Any, Any]] = field(default_factory=list)
    error: str = ""

    @property
    def passed(self) -> bool:
        return not self.misses and not self.error


# Reading the advice's judgements.

# What a dataset analysis says when it suggests each task beyond the target's own.
_SUGGESTS = {
    "time_series": "time_series experiment",
    "clustering": "clustering experiment",
    "anomaly": "anomaly detection",
}
_METRIC_NAMES = sorted({m.display for ms in METRICS.values() for m in ms} - {"Prec."})
_TARGET = re.compile(r"The target \((?:chosen|guessed)\) is '([^']+)', which looks like (\w+)")


def _literal(verdict: str | None) -> str | None:
    from copilots.verdicts import APPROVE, APPROVE_WITH_CAVEATS, DO_NOT_DEPLOY, verdict_level

    level = verdict_level(verdict)
    return None if level is None else (APPROVE, APPROVE_WITH_CAVEATS, DO_NOT_DEPLOY)[level]


def judgements(copilot: str, advice: dict[str, Any], obj: Any, env: Env) -> dict[str, Any]:
    """What the advice says, as comparable values: targets, tasks, risks, verdicts..."""
    text = " ".join([advice.get("reasoning_summary", ""), *advice.get("recommendations", [])])
    risks = {r["name"]: r["severity"] for r in advice.get("risks") or []}
    found: dict[str, Any] = {"risks": risks}
    config = advice.get("suggested_config") or {}
    experiment, plan = config.get("experiment") or {}, config.get("plan") or {}
    found["metrics_named"] = {m for m in _METRIC_NAMES if re.search(rf"(?<!\w){m}(?!\w)", text)}
    if copilot == "dataset_analysis":
        found["target"], found["task"] = _stated_target(advice.get("reasoning_summary", ""), obj)
        found["suggests"] = {task for task, words in _SUGGESTS.items() if words in text}
    elif copilot == "experiment_design":
        setup = experiment.get("setup") or {}
        found.update(
            target=experiment.get("target"),
            task=experiment.get("task"),
            fix_imbalance=bool(setup.get("fix_imbalance")),
            ignore_features=set(setup.get("ignore_features") or []),
            sort=plan.get("sort"),
            model_id=plan.get("model_id"),
            series=(setup.get("date_column"), setup.get("fh"), setup.get("fold")),
            plan_valid=plan_valid(config),
        )
    elif copilot == "run_explanation":
        notes = " ".join(advice.get("notes") or [])
        stable = "stable" in advice.get("reasoning_summary", "")
        found.update(
            suggests_tuning=any(r.lower().startswith("tune ") for r in advice["recommendations"]),
            says_kept_original="kept the original" in f"{text} {notes}",
            says_stable=stable,
            agrees_with_review=_agrees_with_review(advice, obj, env, stable),
        )
    elif copilot == "failure_debugging":
        found.update(
            category=advice.get("category"),
            suggested_task=experiment.get("task"),
            suggested_target=experiment.get("target"),
            suggested_model_id=plan.get("model_id"),
        )
    elif copilot == "deployment_review":
        found["verdict"] = _literal(advice.get("verdict"))
    elif copilot == "drift_analysis":
        if "dataset drift" in risks:
            found["decision"] = "retrain"
        elif any(name.startswith(("drift:", "prediction drift")) for name in risks):
            found["decision"] = "watch"
        else:
            found["decision"] = "no report" if "no drift report" in text else "no action"
    return found


def plan_valid(config: dict[str, Any]) -> bool:
    """The suggested configuration passes the engine's own checks for its task: the setup
    options (a time series' date_column, fh and fold among them), the plan's schema, the kinds
    and arguments the task runs, and model ids from the task's registry."""
    from engine.capabilities import plan_problems
    from engine.model_registry import is_known_model
    from engine.plans import TASKS, parse_plan, parse_setup_options

    experiment, plan = config.get("experiment") or {}, config.get("plan") or {}
    task = experiment.get("task")
    if task not in TASKS:
        return False
    try:
        options = parse_setup_options(task, experiment.get("setup") or {})
        parsed = parse_plan(plan)
    except ValueError:  # pydantic's ValidationError is one
        return False
    if task == "time_series" and not {"fh", "fold"} <= options.model_fields_set:
        return False
    ids = [getattr(parsed, "model_id", None), *(getattr(parsed, "include", None) or [])]
    known = all(is_known_model(task, m) for m in ids if m)
    return known and not plan_problems(parsed, task)


def _stated_target(summary: str, dataset) -> tuple[str | None, str | None]:
    """(target, task) as the summary states them: the offline wording, or else, for an LLM's
    own words, the first column named in the first sentence about the target."""
    match = _TARGET.search(summary)
    if match:
        return match.group(1), match.group(2)
    sentence = next((s for s in re.split(r"(?<=[.!?])\s+", summary) if "target" in s.lower()), "")
    named = []
    for name in map(str, dataset.column_names):
        # A column called "target" counts only when quoted: the word is in every such sentence.
        quoted = name.lower() == "target"
        pattern = f"['\"`]{re.escape(name)}['\"`]" if quoted else rf"(?<!\w){re.escape(name)}(?!\w)"
        hit = re.search(pattern, sentence)
        if hit:
            named.append((hit.start(), name))
    tasks = re.findall(r"classification|regression", sentence or summary)
    return (min(named)[1] if named else None), (tasks[0] if tasks else None)


def _agrees_with_review(advice: dict[str, Any], run, env: Env, stable: bool) -> bool:
    """The deployment review of a pipeline promoted from the same run names the same risks,
    and the explanation does not call the run stable where the review sees overfitting."""
    from copilots.selectors import envelope
    from copilots.services import consult

    pipeline = run.pipelines.first() or env.pipeline(run, name=f"eval-run-{run.pk}")
    review = envelope(consult(type="deployment_review", obj=pipeline, user=None))
    names = [r["name"] for r in review.get("risks") or []]
    overfit = any(name.startswith("overfit") for name in names)
    return names == [r["name"] for r in advice.get("risks") or []] and not (stable and overfit)


def compare(expected: dict[str, Any], actual: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(key, expected, actual) for each judgement that is not as expected."""
    misses = []
    for key, want in expected.items():
        have = actual.get(key)
        wants = want if isinstance(want, list) else [want]
        for item in wants:
            if isinstance(item, Has | Lacks):
                pair = item.item if isinstance(item.item, tuple) else (item.item, None)
                name, severity = pair
                present = name in (have or {}) and (
                    severity is None or not isinstance(have, dict) or have[name] == severity
                )
                if present != isinstance(item, Has):
                    shown = {name: have.get(name)} if isinstance(have, dict) else have
                    misses.append((key, item, shown))
            elif have != item:
                misses.append((key, item, have))
    return misses


def run_case(case: Case, env: Env) -> Result:
    from copilots.selectors import envelope
    from copilots.services import consult

    result = Result(case)
    try:
        with transaction.atomic():  # a savepoint: a crashing case leaves the others intact
            obj, kw = case.build(env)
            consultation = consult(type=case.copilot, obj=obj, user=None, **kw)
            result.actual = judgements(case.copilot, envelope(consultation), obj, env)
        result.misses = compare(case.expected, result.actual)
    except Exception as exc:  # a case that crashes is a miss, not the end of the scorecard
        result.error = f"{type(exc).__name__}: {exc}"
    return result


def run_cases(cases: list[Case], *, llm: bool = False) -> tuple[list[Result], float]:
    """Every case, offline (no LLM) or through COPILOT_MODEL; (results, seconds)."""
    started = time.perf_counter()
    model = settings.COPILOT_MODEL if llm else ""
    # A private default cache (the copilots' throttle counts in it); the other aliases stay.
    cache = {
        **settings.CACHES,
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }
    cache["default"]["LOCATION"] = f"copilot-eval-{uuid.uuid4().hex}"
    # The evaluation's own uploads and calls are not a workspace's: its quotas do not apply.
    quotas_off = {"STUDIO_QUOTA_COPILOT_CALLS_PER_DAY": 0, "STUDIO_QUOTA_STORAGE_MB": 0}
    with tempfile.TemporaryDirectory() as media:
        # Its files go to a local storage in that folder, never to the studio's own (a bucket).
        local = {**LOCAL_STORAGE, "OPTIONS": {**LOCAL_STORAGE["OPTIONS"], "location": media}}
        storages = {**settings.STORAGES, "default": local}
        with (
            override_settings(
                MEDIA_ROOT=media,
                STORAGES=storages,
                COPILOT_MODEL=model,
                CACHES=cache,
                **quotas_off,
            ),
            transaction.atomic(),
        ):
            env = Env()
            results = [run_case(case, env) for case in cases]
            transaction.set_rollback(True)
    return results, time.perf_counter() - started


def scorecard(results: list[Result], *, title: str, seconds: float) -> str:
    """Per copilot: cases passed out of total, then each miss with expected and actual."""
    lines = [f"{title} ({len(results)} cases, {seconds:.1f} s)"]
    width = max(len(c) for c in COPILOTS)
    for copilot in COPILOTS:
        mine = [r for r in results if r.case.copilot == copilot]
        if not mine:
            continue
        passed = sum(r.passed for r in mine)
        lines.append(f"  {copilot:<{width}}  {passed:>2}/{len(mine):<2} passed")
        for result in mine:
            if result.error:
                lines.append(f"    MISS {result.case.name}: error {result.error}")
            for key, want, have in result.misses:
                lines.append(
                    f"    MISS {result.case.name}: {key}: expected {want!r}, actual {have!r}"
                )
    total = sum(r.passed for r in results)
    lines.append(f"  {'all':<{width}}  {total:>2}/{len(results):<2} passed")
    return "\n".join(lines)
