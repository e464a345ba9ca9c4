"""Seed a demo user, workspace and project. Safe to run again: it changes nothing twice."""

import os
import secrets

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Membership, Role, User, Workspace
from accounts.services import workspace_create
from engine.models import Project

DEMO_USERNAME = "demo"
DEMO_WORKSPACE = "Demo workspace"
DEMO_PROJECT = "Breast cancer screening"
PASSWORD_FILE = settings.VAR_DIR / "demo-password"


class Command(BaseCommand):
    help = "Create the demo user, workspace and project (idempotent)."

    def handle(self, *args, **options):
        user, password = self._demo_user()
        workspace = self._demo_workspace(user)
        project = self._demo_project(workspace, user)
        self.stdout.write(f"Demo workspace: {workspace.name}; project: {project.name}")
        if password:
            self.stdout.write(self.style.SUCCESS(f"Demo login: {DEMO_USERNAME} / {password}"))
        else:
            self.stdout.write(f"Demo login: {DEMO_USERNAME} (password unchanged)")

    @transaction.atomic
    def _demo_user(self) -> tuple[User, str | None]:
        user = User.objects.filter(username=DEMO_USERNAME).first()
        env_password = os.environ.get("STUDIO_DEMO_PASSWORD")
        if user is not None:
            if env_password and not user.check_password(env_password):
                user.set_password(env_password)
                user.save(update_fields=["password"])
            return user, env_password or self._remembered_password()
        password = env_password or secrets.token_urlsafe(12)
        user = User.objects.create_user(
            username=DEMO_USERNAME, password=password, email="demo@example.com"
        )
        if not env_password:
            # Printed once now; kept in var/ (owner-only) so `make run` can remind you.
            PASSWORD_FILE.parent.mkdir(parents=True, exist_ok=True)
            PASSWORD_FILE.write_text(password)
            PASSWORD_FILE.chmod(0o600)
        return user, password

    def _remembered_password(self) -> str | None:
        return PASSWORD_FILE.read_text().strip() if PASSWORD_FILE.exists() else None

    def _demo_workspace(self, user: User) -> Workspace:
        membership = (
            Membership.objects.filter(user=user, workspace__name=DEMO_WORKSPACE)
            .select_related("workspace")
            .first()
        )
        if membership:
            if membership.role != Role.OWNER:
                membership.role = Role.OWNER
                membership.save(update_fields=["role"])
            return membership.workspace
        return workspace_create(name=DEMO_WORKSPACE, owner=user)

    def _demo_project(self, workspace: Workspace, user: User) -> Project:
        project, _ = Project.objects.get_or_create(
            workspace=workspace,
            name=DEMO_PROJECT,
            defaults={
                "description": "Demo: classify tumours as malignant or benign (scikit-learn's "
                "breast_cancer data).",
                "created_by": user,
            },
        )
        return project
