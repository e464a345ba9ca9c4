"""Writes for projects: create, rename, delete."""

from __future__ import annotations

import shutil
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction

from accounts.access import require
from accounts.models import User, Workspace
from engine.errors import InvalidInput
from engine.models import Project

NAME_MAX = Project._meta.get_field("name").max_length


def _name_error(message: str, code: str, *, status: int = 422) -> InvalidInput:
    return InvalidInput(message, code=code, status=status, fields={"name": [(message, code)]})


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise _name_error("A project needs a name.", "required")
    if len(name) > NAME_MAX:
        raise _name_error(f"Keep the name under {NAME_MAX} characters.", "invalid")
    return name


def _duplicate(workspace: Workspace, name: str) -> InvalidInput:
    return _name_error(
        f"A project named “{name}” already exists in {workspace.name}.",
        "duplicate_name",
        status=409,
    )


def project_create(
    *,
    workspace: Workspace,
    name: str,
    description: str = "",
    user: User | None = None,
    request=None,
) -> Project:
    require(request, workspace, "write", user=user)
    name = _clean_name(name)
    if Project.objects.filter(workspace=workspace, name__iexact=name).exists():
        raise _duplicate(workspace, name)
    try:
        with transaction.atomic():
            return Project.objects.create(
                workspace=workspace,
                name=name,
                description=(description or "").strip(),
                created_by=user,
            )
    except IntegrityError as exc:  # a concurrent create won the race
        raise _duplicate(workspace, name) from exc


def project_update(
    *,
    project: Project,
    name: str | None = None,
    description: str | None = None,
    user: User | None = None,
    request=None,
) -> Project:
    """Rename a project and/or change its description; None leaves a field as it is."""
    require(request, project.workspace, "write", user=user)
    fields = ["updated_at"]
    if name is not None:
        name = _clean_name(name)
        clash = Project.objects.filter(workspace=project.workspace, name__iexact=name).exclude(
            pk=project.pk
        )
        if clash.exists():
            raise _duplicate(project.workspace, name)
        project.name = name
        fields.append("name")
    if description is not None:
        project.description = description.strip()
        fields.append("description")
    try:
        with transaction.atomic():
            project.save(update_fields=fields)
    except IntegrityError as exc:
        raise _duplicate(project.workspace, project.name) from exc
    return project


def project_delete(*, project: Project, user: User | None = None, request=None) -> None:
    """Delete a project with its datasets, experiments and runs, and then their files."""
    require(request, project.workspace, "write", user=user)
    media = Path(settings.MEDIA_ROOT)
    folders = {
        (media / path).parent
        for path in project.datasets.values_list("original_path", flat=True)
        if path
    }
    with transaction.atomic():
        # Experiments protect their dataset, so they go first.
        project.experiments.all().delete()
        project.delete()

        def remove_files() -> None:
            for folder in folders:
                if folder.is_relative_to(media / "datasets"):
                    shutil.rmtree(folder, ignore_errors=True)

        transaction.on_commit(remove_files)
