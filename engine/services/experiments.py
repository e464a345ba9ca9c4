"""Writes for experiments: validate a task, target and setup options against a dataset."""

from __future__ import annotations

from typing import Any

import pydantic
from django.db import transaction

from accounts.access import require
from accounts.models import User
from accounts.services import audit_record
from engine.errors import Conflict, InvalidInput
from engine.models import Dataset, Experiment, Project
from engine.numbers import plural
from engine.plans import (
    SUPERVISED_ONLY_OPTIONS,
    TARGET_TASKS,
    TASK_LABELS,
    TASKS,
    UNSUPERVISED_TASKS,
    SetupOptions,
    TimeSeriesOptions,
    inapplicable_message,
    inapplicable_options,
    options_model,
)
from engine.selectors.datasets import dataset_class_counts, dataset_columns_frame

NAME_MAX = Experiment._meta.get_field("name").max_length
DESCRIPTION_MAX = 2000
MAX_CLASSES = 50
SHOWN_CLASSES = 5
SETUP_OPTION_NAMES = tuple(SetupOptions.model_fields)


def setup_option_names(task: str) -> tuple[str, ...]:
    """The setup options an experiment of `task` takes."""
    names = tuple(options_model(task).model_fields)
    if task in UNSUPERVISED_TASKS:
        names = tuple(n for n in names if n not in SUPERVISED_ONLY_OPTIONS)
    return names


class _Errors:
    """Collects every problem, so a form shows them all at once (and the API names them)."""

    def __init__(self) -> None:
        self.by_field: dict[str, list[tuple[str, str]]] = {}

    def add(self, field: str, message: str, code: str) -> None:
        self.by_field.setdefault(field, []).append((message, code))

    def raise_if_any(self) -> None:
        if self.by_field:
            problems = [problem for field in self.by_field.values() for problem in field]
            raise InvalidInput(
                " ".join(message for message, _ in problems),
                code=problems[0][1],
                fields=self.by_field,
            )


def _quoted(names) -> str:
    return ", ".join(f"'{n}'" for n in names)


def _parse_setup(task: str, setup: Any, errors: _Errors) -> SetupOptions | TimeSeriesOptions | None:
    if setup is None:
        setup = {}
    if not isinstance(setup, dict):
        errors.add("setup", "setup must be an object of PyCaret setup options.", "invalid")
        return None
    known = setup_option_names(task)
    try:
        options = options_model(task).model_validate(setup)
    except pydantic.ValidationError as exc:
        for error in exc.errors():
            loc = [str(part) for part in error.get("loc", ())]
            option = loc[0] if loc else ""
            if error["type"] == "extra_forbidden":
                label = TASK_LABELS.get(task, task)
                errors.add(
                    "setup",
                    f"Unknown setup option '{option}' for {label}. "
                    f"Known options: {', '.join(known)}.",
                    "unknown_option",
                )
            elif error["type"] == "missing":
                errors.add(option, f"{option} is required for {task}.", "required")
            elif option in known:
                errors.add(option, f"{option}: {error['msg']}", "invalid_option")
            else:
                message = str(error["msg"]).removeprefix("Value error, ")
                errors.add("setup", message, "invalid_option")
        return None
    unused = inapplicable_options(task, options)
    if unused:
        errors.add(unused[0], inapplicable_message(task, unused) + ".", "not_applicable")
        return None
    return options


def _check_series(
    *, dataset: Dataset, target: str, options: TimeSeriesOptions | None, errors: _Errors
) -> None:
    """The series must build (dates parse, repeat nowhere, are evenly spaced; numbers, none
    missing) and be long enough for fh and fold: the runner's own checks, on the same data."""
    from engine.timeseries import SeriesProblem, build_series, check_length

    profile = dataset.column(target)
    if profile is None:
        errors.add(
            "target",
            f"Target column '{target}' is not in the dataset “{dataset.name}”.",
            "unknown_column",
        )
        return
    if profile.get("kind") != "numeric":
        errors.add(
            "target",
            f"Time-series forecasting needs a numeric series, but '{target}' is "
            f"{profile.get('kind') or 'not numeric'} ({profile.get('dtype', '?')}).",
            "target_not_numeric",
        )
        return
    if (
        options is None
        or dataset.column(options.date_column) is None
        or options.date_column == target
    ):
        return  # the options' own errors say what is wrong
    frame = dataset_columns_frame(dataset, [options.date_column, target])
    try:
        series = build_series(frame, date_column=options.date_column, target=target)
        check_length(len(series), fh=options.fh, fold=options.fold)
    except SeriesProblem as problem:
        errors.add(problem.field, problem.message, problem.code)


def _check_target(
    *, dataset: Dataset, task: str, target: str, options: SetupOptions | None, errors: _Errors
) -> list[str]:
    """Validate the target for the task; return the non-blocking warnings."""
    profile = dataset.column(target)
    if profile is None:
        errors.add(
            "target",
            f"Target column '{target}' is not in the dataset “{dataset.name}”.",
            "unknown_column",
        )
        return []
    from copilots.rules.targets import task_mismatch

    kind = profile.get("kind", "")
    # The copilots' rule book decides which task a target's values suggest, for every page.
    mismatch = task_mismatch(task=task, target=profile)
    if task == "regression":
        if kind != "numeric":
            errors.add(
                "target",
                f"Regression needs a numeric target, but '{target}' is {kind or 'not numeric'}"
                f" ({profile.get('dtype', '?')}).",
                "target_not_numeric",
            )
            return []
        return [f"The target {mismatch['reason']}."] if mismatch else []
    counts = dataset_class_counts(dataset, target)
    if len(counts) < 2:
        errors.add(
            "target",
            f"Classification needs at least two classes, but '{target}' has {len(counts)}.",
            "too_few_classes",
        )
        return []
    warnings = []
    if mismatch is not None:
        warnings.append(f"The target {mismatch['reason']}.")
    elif len(counts) > MAX_CLASSES:
        warnings.append(
            f"The target '{target}' has {len(counts)} classes (more than {MAX_CLASSES}); "
            "is it really a category, or is this a regression problem?"
        )
    fold = options.fold if options is not None else SetupOptions().fold
    small = sorted((n, str(v)) for v, n in counts.items() if n < fold)
    if small:
        shown = ", ".join(f"'{v}' ({plural(n, 'row')})" for n, v in small[:SHOWN_CLASSES])
        more = f" and {len(small) - SHOWN_CLASSES} more" if len(small) > SHOWN_CLASSES else ""
        warnings.append(
            f"{len(small)} class(es) of '{target}' have fewer rows than fold={fold}: "
            f"{shown}{more}. Stratified cross-validation may fail; lower fold or merge rare "
            "classes."
        )
    return warnings


def experiment_check(
    *, project: Project, dataset: Dataset, name: str, task: str, target: str | None, setup: Any
) -> tuple[str, SetupOptions | TimeSeriesOptions, list[str]]:
    """Validate an experiment's settings. Returns (name, options, warnings).

    Raises InvalidInput with its problems keyed by field (name, dataset, task, target, setup
    or a setup option's name), each message naming the option or column at fault.
    """
    errors = _Errors()
    name = (name or "").strip()
    target = (target or "").strip()
    if not name:
        errors.add("name", "An experiment needs a name.", "required")
    elif len(name) > NAME_MAX:
        errors.add("name", f"Keep the name under {NAME_MAX} characters.", "invalid")
    if dataset.project_id != project.pk:
        errors.add("dataset", f"Dataset {dataset.pk} belongs to another project.", "invalid")
    if task not in TASKS:
        errors.add(
            "task", f"Unknown task '{task}'. Choose one of: {', '.join(TASKS)}.", "unknown_task"
        )
    options = _parse_setup(task, setup, errors)
    if options is not None:
        columns = set(dataset.column_names)
        for option, named in options.referenced_columns().items():
            missing = [c for c in named if c not in columns]
            if missing:
                errors.add(
                    option,
                    f"{option} names {_quoted(missing)}, not a column of the dataset.",
                    "unknown_column",
                )
            if target and target in named:
                errors.add(
                    option, f"{option} must not include the target column '{target}'.", "invalid"
                )
    warnings: list[str] = []
    label = TASK_LABELS.get(task, task)
    if task in UNSUPERVISED_TASKS:
        if target:
            errors.add(
                "target",
                f"A {label} experiment takes no target: it learns from every column. Leave "
                f"target out (list columns to leave out in ignore_features).",
                "target_not_allowed",
            )
    elif not target:
        if task in TARGET_TASKS:
            errors.add("target", f"A {label} experiment needs a target column.", "required")
    elif task == "time_series":
        _check_series(dataset=dataset, target=target, options=options, errors=errors)
    elif task in TASKS:
        warnings = _check_target(
            dataset=dataset, task=task, target=target, options=options, errors=errors
        )
    errors.raise_if_any()
    return name, options, warnings


def experiment_create(
    *,
    project: Project,
    dataset: Dataset,
    name: str,
    task: str,
    target: str | None,
    setup: dict[str, Any] | None = None,
    description: str = "",
    user: User | None = None,
    request=None,
) -> Experiment:
    require(request, project.workspace, "write", user=user)
    name, options, warnings = experiment_check(
        project=project, dataset=dataset, name=name, task=task, target=target, setup=setup
    )
    with transaction.atomic():
        experiment = Experiment.objects.create(
            project=project,
            dataset=dataset,
            name=name,
            description=_clean_description(description),
            task=task,
            target=(target or "").strip(),
            setup_options=options.model_dump(mode="json", exclude_unset=True),
            warnings=warnings,
            created_by=user,
        )
        audit_record(
            action="experiment.created",
            request=request,
            actor=user,
            workspace=project.workspace,
            target=experiment,
            metadata={
                "name": experiment.name,
                "project_id": project.pk,
                "dataset_id": dataset.pk,
                "task": task,
            },
        )
    return experiment


def _clean_description(description: str | None) -> str:
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        message = f"Keep the description under {DESCRIPTION_MAX} characters."
        raise InvalidInput(message, fields={"description": [(message, "invalid")]})
    return description


def setup_locked_reason(experiment: Experiment) -> str:
    """Why the experiment's task, target and setup can no longer change, or "" if they can."""
    n_runs = experiment.runs.count()
    if not n_runs:
        return ""
    return (
        f"The task, target and setup options can't change: {n_runs} run"
        f"{'s' if n_runs != 1 else ''} used them, and their results must keep meaning what "
        "they meant. Clone the experiment to try other settings."
    )


def experiment_update(
    *,
    experiment: Experiment,
    name: str | None = None,
    description: str | None = None,
    setup_changes: dict[str, Any] | None = None,
    user: User | None = None,
    request=None,
) -> Experiment:
    """Change the name and description; None leaves a field as it is. `setup_changes` (any of
    task, target, setup) is allowed only while the experiment has no runs (409 otherwise)."""
    require(request, experiment.project.workspace, "write", user=user)
    fields: list[str] = []
    if setup_changes:
        reason = setup_locked_reason(experiment)
        if reason:
            raise Conflict(reason, code="experiment_has_runs")
        task = setup_changes.get("task", experiment.task)
        target = setup_changes.get("target", experiment.target)
        setup = setup_changes.get("setup", experiment.setup_options)
        checked_name, options, warnings = experiment_check(
            project=experiment.project,
            dataset=experiment.dataset,
            name=experiment.name if name is None else name,
            task=task,
            target=target,
            setup=setup,
        )
        experiment.task, experiment.target = task, (target or "").strip()
        experiment.setup_options = options.model_dump(mode="json", exclude_unset=True)
        experiment.warnings = warnings
        fields += ["task", "target", "setup_options", "warnings"]
        name = checked_name if name is not None else None
    if name is not None:
        name = name.strip()
        if not name or len(name) > NAME_MAX:
            message = (
                "An experiment needs a name."
                if not name
                else (f"Keep the name under {NAME_MAX} characters.")
            )
            raise InvalidInput(message, fields={"name": [(message, "invalid")]})
        experiment.name = name
        fields.append("name")
    if description is not None:
        experiment.description = _clean_description(description)
        fields.append("description")
    if fields:
        experiment.save(update_fields=fields)
        audit_record(
            action="experiment.updated",
            request=request,
            actor=user,
            workspace=experiment.project.workspace,
            target=experiment,
            metadata={"fields": fields},
        )
    return experiment
