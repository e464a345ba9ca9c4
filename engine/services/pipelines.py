"""Writes for pipelines: promote a succeeded run's artifact to a versioned pipeline."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Max

from accounts.access import require
from accounts.models import User
from accounts.services import audit_record
from engine.errors import Conflict, InvalidInput, StudioError
from engine.models import Pipeline, Project, Run, RunStatus

NAME_MAX_LENGTH = 200
VERSION_ATTEMPTS = 5


def default_pipeline_name(run: Run) -> str:
    return run.experiment.name[:NAME_MAX_LENGTH]


def pipeline_promote(
    *, run: Run, user: User | None, name: str | None = None, request=None
) -> Pipeline:
    """Promote a succeeded run to the next version of pipeline `name` in its project.

    Raises Conflict (409) for a run that has not succeeded, StudioError (400) for one without
    a pipeline artifact, InvalidInput for a bad name and PermissionDenied without 'write'.
    """
    experiment = run.experiment
    project = experiment.project
    require(request, project.workspace, "write", user=user)
    if run.status != RunStatus.SUCCEEDED:
        raise Conflict(
            f"Run {run.pk} has status {run.status}; only a succeeded run can be promoted."
        )
    if not run.artifact_path or not run.artifact_sha256:
        raise StudioError(
            f"Run {run.pk} has no trained pipeline to promote (a setup-only plan saves none); "
            "promote a run that trained a model."
        )
    name = " ".join((name or "").split()) or default_pipeline_name(run)
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidInput(f"The name is longer than {NAME_MAX_LENGTH} characters.")
    if "\x00" in name:
        raise InvalidInput("The name contains a NUL character.")
    for attempt in range(VERSION_ATTEMPTS):
        try:
            with transaction.atomic():
                pipeline = _create_next_version(run=run, project=project, name=name, user=user)
                audit_record(
                    action="pipeline.promoted",
                    request=request,
                    actor=user,
                    workspace=project.workspace,
                    target=pipeline,
                    metadata={
                        "run_id": run.pk,
                        "name": pipeline.name,
                        "version": pipeline.version,
                        "model_id": pipeline.model_id,
                        "artifact_sha256": pipeline.artifact_sha256,
                    },
                )
            return pipeline
        except IntegrityError:
            # Another promotion took this version number between our read and our write.
            if attempt == VERSION_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _create_next_version(*, run: Run, project: Project, name: str, user: User | None) -> Pipeline:
    # Serialises promotions per project where the database can lock rows (PostgreSQL);
    # the unique constraint and the retry above cover the rest.
    list(Project.objects.select_for_update().filter(pk=project.pk).values_list("pk", flat=True))
    last = Pipeline.objects.filter(project=project, name=name).aggregate(v=Max("version"))["v"]
    return Pipeline.objects.create(
        project=project,
        name=name,
        version=(last or 0) + 1,
        origin_run=run,
        task=run.experiment.task,
        target=run.experiment.target,
        model_id=run.model_id,
        model_name=run.model_name,
        metrics=dict(run.metrics or {}),
        feature_schema=list(run.feature_schema or []),
        target_classes=list(run.target_classes or []),
        artifact_path=run.artifact_path,
        artifact_sha256=run.artifact_sha256,
        promoted_by=user,
    )
