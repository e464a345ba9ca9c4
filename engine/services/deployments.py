"""Writes for deployments' lifecycle: deploy, roll back, deactivate and activate.

Predictions and their log are in `services/predictions.py`, batch scoring in
`services/batches.py`.
"""

from __future__ import annotations

import logging
import re

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from accounts.access import require
from accounts.models import User
from accounts.services import audit_record
from engine import serving
from engine.errors import Conflict, InvalidInput
from engine.model_registry import predicting_clustering_models
from engine.models import Deployment, DeploymentRevision, Pipeline
from engine.selectors.deployments import deployment_rollback_target

logger = logging.getLogger(__name__)

SLUG_MAX_LENGTH = 80
SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$")
Action = DeploymentRevision.Action


def _slug_taken(slug: str) -> Conflict:
    # The same answer whoever holds the slug, so it reveals nothing about other workspaces.
    return Conflict(f"The slug '{slug}' is already taken; choose another one.", code="slug_taken")


def check_slug(slug: str) -> str:
    slug = (slug or "").strip()
    if not SLUG_PATTERN.match(slug):
        suggestion = slugify(slug)[:SLUG_MAX_LENGTH].strip("-")
        hint = f" For example '{suggestion}'." if suggestion else ""
        raise InvalidInput(
            f"'{slug}' is not a valid slug: use 1 to {SLUG_MAX_LENGTH} lowercase letters, "
            f"digits and hyphens, starting and ending with a letter or digit.{hint}"
        )
    return slug


def _free_slug(base: str) -> str:
    base = base[: SLUG_MAX_LENGTH - 6].strip("-") or "pipeline"
    slug, n = base, 1
    while Deployment.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def _warm_up_on_commit(pipeline: Pipeline) -> None:
    if not settings.STUDIO_SERVING_WARM_UP:
        return
    name, sha256, task = pipeline.artifact_path, pipeline.artifact_sha256, pipeline.task
    transaction.on_commit(
        lambda: serving.warm_up_in_background(name=name, sha256=sha256, task=task)
    )


def _revision(
    deployment: Deployment, pipeline: Pipeline, action: str, user, warning: str = ""
) -> None:
    DeploymentRevision.objects.create(
        deployment=deployment, pipeline=pipeline, action=action, created_by=user, warning=warning
    )


def _risk_list(risks: list[dict]) -> str:
    return "; ".join(f"{r.get('name')} ({r.get('severity')}): {r.get('evidence')}" for r in risks)


def deploy_gate(pipeline: Pipeline) -> dict | None:
    """What stands between `pipeline` and an unconfirmed deploy: its latest review said
    DO NOT DEPLOY, or it has none. None when a review approved it (with or without caveats).

    `{reason, verdict, risks, consultation_id, message}`; the copilots' rule book decides.
    """
    from copilots.selectors import deploy_warning

    gate = deploy_warning(pipeline)
    if gate is None:
        return None
    risks = _risk_list(gate["risks"])
    if gate["reason"] == "do_not_deploy":
        message = f"The latest review of {pipeline} said {gate['verdict']}"
    else:
        found = f"its checks find: {risks}" if risks else "its checks find no high or medium risk"
        message = f"{pipeline} has not been reviewed; {found}"
    return {**gate, "message": message}


def _confirmation_required(gate: dict) -> Conflict:
    return Conflict(
        f"{gate['message']}. Review it first, or confirm that you deploy it over this warning "
        "(the page asks; the API takes acknowledge_risks: true).",
        code="confirmation_required",
        reason=gate["reason"],
        verdict=gate["verdict"],
        risks=gate["risks"],
        consultation_id=gate["consultation_id"],
    )


def _audit_change(
    deployment, *, action, request, user, previous: Pipeline | None, over_warning: bool = False
) -> None:
    audit_record(
        action="deployment.changed",
        request=request,
        actor=user,
        workspace=deployment.project.workspace,
        target=deployment,
        metadata={
            "action": action,
            "slug": deployment.slug,
            "pipeline_id": deployment.pipeline_id,
            "version": deployment.pipeline.version,
            "from_pipeline_id": previous.pk if previous else None,
            "from_version": previous.version if previous else None,
            "is_active": deployment.is_active,
            "over_warning": over_warning,
        },
    )


def deployment_deploy(
    *,
    pipeline: Pipeline,
    user: User | None,
    slug: str | None = None,
    request=None,
    acknowledge_risks: bool = False,
) -> tuple[Deployment, bool]:
    """Serve `pipeline` at `slug` (default: from its name). Returns (deployment, created).

    A slug of another project, in any workspace, is a 409. The same project's slug gets the
    new version, and the previous one stays in its history for a rollback. A pipeline whose
    latest review said DO NOT DEPLOY, or that has no review, is a 409 `confirmation_required`
    naming the risks, unless `acknowledge_risks`; its history then records the warning.
    """
    require(request, pipeline.project.workspace, "deploy", user=user)
    if not pipeline_can_predict(pipeline):
        raise Conflict(
            f"{pipeline.model_name or pipeline.model_id} ({pipeline.model_id}) assigns clusters "
            "only to the rows it was trained on: it cannot place new rows, so it cannot be "
            f"deployed. Models that can: {', '.join(predicting_clustering_models())}.",
            code="cannot_predict",
        )
    if slug:
        slug = check_slug(slug)
        # A hard "no" before asking anyone to confirm risks (checked again under the lock).
        if Deployment.objects.filter(slug=slug).exclude(project=pipeline.project).exists():
            raise _slug_taken(slug)
    gate = deploy_gate(pipeline)
    if gate is not None and not acknowledge_risks:
        raise _confirmation_required(gate)
    warning = gate["message"][:2000] if gate else ""
    try:
        with transaction.atomic():
            deployment, created = _deploy(
                pipeline=pipeline, slug=slug, user=user, request=request, warning=warning
            )
    except IntegrityError as exc:  # a concurrent deploy took the slug first
        raise _slug_taken(slug or slugify(pipeline.name)) from exc
    return deployment, created


def _deploy(
    *, pipeline: Pipeline, slug: str | None, user, request, warning: str
) -> tuple[Deployment, bool]:
    project = pipeline.project
    if slug:
        existing = Deployment.objects.select_for_update().filter(slug=slug).first()
        if existing is not None and existing.project_id != project.pk:
            raise _slug_taken(slug)
    else:
        base = slugify(pipeline.name)[: SLUG_MAX_LENGTH - 6].strip("-") or "pipeline"
        # Without a slug, a new version of a deployed name goes to that name's deployment.
        existing = (
            Deployment.objects.select_for_update()
            .filter(project=project, pipeline__name=pipeline.name, slug__startswith=base)
            .order_by("created_at", "id")
            .first()
        )
        slug = existing.slug if existing is not None else _free_slug(base)
    if existing is None:
        deployment = Deployment.objects.create(
            project=project, slug=slug, pipeline=pipeline, is_active=True, created_by=user
        )
        _revision(deployment, pipeline, Action.DEPLOY, user, warning)
        audit_record(
            action="deployment.created",
            request=request,
            actor=user,
            workspace=project.workspace,
            target=deployment,
            metadata={
                "slug": slug,
                "pipeline_id": pipeline.pk,
                "version": pipeline.version,
                "over_warning": bool(warning),
            },
        )
        _warm_up_on_commit(pipeline)
        return deployment, True
    deployment = existing
    previous = deployment.pipeline
    if previous.pk == pipeline.pk and deployment.is_active:
        return deployment, False  # already serving this version
    deployment.pipeline = pipeline
    deployment.is_active = True
    deployment.save(update_fields=["pipeline", "is_active", "updated_at"])
    _revision(deployment, pipeline, Action.DEPLOY, user, warning)
    _audit_change(
        deployment,
        action="deploy",
        request=request,
        user=user,
        previous=previous,
        over_warning=bool(warning),
    )
    _warm_up_on_commit(pipeline)
    return deployment, False


def pipeline_can_predict(pipeline: Pipeline) -> bool:
    """False for a clustering model that labels its training rows only (no predict)."""
    return bool(pipeline.origin_run.summary.get("can_predict", True))


def _locked(deployment: Deployment) -> Deployment:
    # Lock the row alone, then read it with its relations. On PostgreSQL a FOR UPDATE over a
    # join re-checks the join after waiting for a concurrent writer, and a row whose pipeline
    # that writer changed (a rollback) drops out: DoesNotExist for a deployment that exists.
    Deployment.objects.select_for_update().filter(pk=deployment.pk).values_list("pk").get()
    return Deployment.objects.select_related("pipeline", "project__workspace").get(pk=deployment.pk)


def deployment_rollback(*, deployment: Deployment, user: User | None, request=None) -> Deployment:
    """Serve the version that served before the current one (one click on the page)."""
    require(request, deployment.project.workspace, "deploy", user=user)
    with transaction.atomic():
        deployment = _locked(deployment)
        target = deployment_rollback_target(deployment)
        if target is None:
            raise Conflict(
                f"Nothing to roll back to: '{deployment.slug}' has only served "
                f"{deployment.pipeline}.",
                code="no_previous_version",
            )
        previous = deployment.pipeline
        deployment.pipeline = target
        deployment.save(update_fields=["pipeline", "updated_at"])
        _revision(deployment, target, Action.ROLLBACK, user)
        _audit_change(deployment, action="rollback", request=request, user=user, previous=previous)
        _warm_up_on_commit(target)
    return deployment


def _set_active(deployment: Deployment, *, active: bool, user, request) -> Deployment:
    require(request, deployment.project.workspace, "deploy", user=user)
    with transaction.atomic():
        deployment = _locked(deployment)
        if deployment.is_active == active:
            return deployment
        deployment.is_active = active
        deployment.save(update_fields=["is_active", "updated_at"])
        action = Action.ACTIVATE if active else Action.DEACTIVATE
        _revision(deployment, deployment.pipeline, action, user)
        _audit_change(deployment, action=action, request=request, user=user, previous=None)
    return deployment


def deployment_deactivate(*, deployment: Deployment, user: User | None, request=None) -> Deployment:
    """Stop serving: predict answers 409 until the deployment is activated again."""
    return _set_active(deployment, active=False, user=user, request=request)


def deployment_activate(*, deployment: Deployment, user: User | None, request=None) -> Deployment:
    return _set_active(deployment, active=True, user=user, request=request)


def deployment_inactive_error(deployment: Deployment) -> Conflict:
    return Conflict(
        f"Deployment '{deployment.slug}' is inactive, so it does not serve predictions. "
        "An admin can activate it again on its page.",
        code="inactive",
    )
