"""Seed a demo user, workspace, project, dataset, experiment and one compare run, and once
that run has succeeded, its pipeline and deployment; then the same for a small time-series
forecast (a generated monthly series), which adds about 7 s.

Safe to run again: it changes nothing twice. The demo runs are trained here, once.
"""

import os
import secrets
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Membership, Role, User, Workspace
from accounts.services import workspace_create
from engine.models import Dataset, Experiment, Project

DEMO_USERNAME = "demo"
DEMO_WORKSPACE = "Demo workspace"
DEMO_PROJECT = "Breast cancer screening"
DEMO_DATASET = "breast_cancer.csv"
DEMO_EXPERIMENT = "Malignant or benign"
DEMO_PIPELINE = "Breast cancer screening"
# A handful of quick models: the first `make run` trains them in about 20 s.
DEMO_PLAN = {"kind": "compare", "include": ["lr", "nb", "dt", "rf", "et"], "fold": 5}
PASSWORD_FILE = settings.VAR_DIR / "demo-password"
# The forecasting demo: three quick forecasters on 144 generated months (about 7 s).
SERIES_PROJECT = "Airline passengers"
SERIES_DATASET = "passengers.csv"
SERIES_EXPERIMENT = "Monthly passengers"
SERIES_PIPELINE = "Passengers forecast"
SERIES_SETUP = {"date_column": "month", "fh": 12, "fold": 2, "session_id": 42}
SERIES_PLAN = {"kind": "compare", "include": ["naive", "snaive", "arima"]}


class Command(BaseCommand):
    help = "Create the demo user, workspace, project, dataset, trained run and deployment."

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-train",
            action="store_true",
            help="Only enqueue the demo run for the worker; do not train it here.",
        )

    def handle(self, *args, **options):
        user, password = self._demo_user()
        workspace = self._demo_workspace(user)
        project = self._demo_project(workspace, user)
        dataset = self._demo_dataset(project, user)
        self.stdout.write(
            f"Demo workspace: {workspace.name}; project: {project.name}; "
            f"dataset: {dataset.name} ({dataset.n_rows} rows)"
        )
        experiment = self._demo_experiment(dataset, user)
        self._demo_run(experiment, user, plan=DEMO_PLAN, train=not options["no_train"])
        self._demo_deployment(experiment, user, name=DEMO_PIPELINE)
        series = self._series_experiment(workspace, user)
        self._demo_run(series, user, plan=SERIES_PLAN, train=not options["no_train"])
        self._demo_deployment(series, user, name=SERIES_PIPELINE)
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
            if not (user.is_staff and user.is_superuser):
                user.is_staff = user.is_superuser = True
                user.save(update_fields=["is_staff", "is_superuser"])
            return user, env_password or self._remembered_password()
        password = env_password or secrets.token_urlsafe(12)
        # A superuser, so the demo also opens the admin at /admin/ (key revocation, the audit
        # log, every workspace's projects and runs, read-only).
        user = User.objects.create_superuser(
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

    def _demo_dataset(self, project: Project, user: User) -> Dataset:
        """scikit-learn's breast_cancer data, uploaded as a CSV through the real ingestion."""
        existing = project.datasets.filter(name=DEMO_DATASET).first()
        if existing is not None:
            return existing
        from sklearn.datasets import load_breast_cancer

        return self._upload(project, user, load_breast_cancer(as_frame=True).frame, DEMO_DATASET)

    def _upload(self, project: Project, user: User, frame, filename: str) -> Dataset:
        """`frame` uploaded as a CSV through the real ingestion."""
        from engine.services.datasets import dataset_ingest

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / filename
            frame.to_csv(path, index=False)
            with path.open("rb") as handle:
                return dataset_ingest(
                    project=project,
                    file=File(handle, name=filename),
                    filename=filename,
                    name=filename,
                    user=user,
                )

    def _demo_experiment(self, dataset: Dataset, user: User) -> Experiment:
        existing = dataset.project.experiments.filter(name=DEMO_EXPERIMENT).first()
        if existing is not None:
            return existing
        from engine.services.experiments import experiment_create

        return experiment_create(
            project=dataset.project,
            dataset=dataset,
            name=DEMO_EXPERIMENT,
            task="classification",
            target="target",
            setup={"session_id": 42},
            user=user,
        )

    def _series_experiment(self, workspace: Workspace, user: User) -> Experiment:
        """A generated monthly series, and a forecasting experiment on it."""
        project, _ = Project.objects.get_or_create(
            workspace=workspace,
            name=SERIES_PROJECT,
            defaults={
                "description": "Demo: forecast a monthly series (generated: a trend, a yearly "
                "season and noise).",
                "created_by": user,
            },
        )
        existing = project.experiments.filter(name=SERIES_EXPERIMENT).first()
        if existing is not None:
            return existing
        from engine.services.experiments import experiment_create
        from engine.timeseries import monthly_demo_frame

        dataset = project.datasets.filter(name=SERIES_DATASET).first()
        if dataset is None:
            dataset = self._upload(project, user, monthly_demo_frame(), SERIES_DATASET)
        return experiment_create(
            project=project,
            dataset=dataset,
            name=SERIES_EXPERIMENT,
            task="time_series",
            target="passengers",
            setup=SERIES_SETUP,
            user=user,
        )

    def _demo_run(self, experiment: Experiment, user: User, *, plan: dict, train: bool) -> None:
        """Submit one compare run, once, and run it here so the demo opens on a finished
        leaderboard and a live deployment. A run trained here is not sent to the broker, so a
        worker that is already running cannot claim it first; with --no-train it is."""
        if experiment.runs.exists():
            return
        from engine.services.execution import run_execute
        from engine.services.runs import run_submit

        run = run_submit(experiment=experiment, plan=plan, user=user, dispatch=not train)
        if not train:
            self.stdout.write(f"Demo run {run.pk} submitted for the worker.")
            return
        self.stdout.write(f"Demo run {run.pk} ({experiment.name}) submitted; training it now...")
        self.stdout.write(f"Demo run {run.pk}: {run_execute(run_id=run.pk)}")

    def _demo_deployment(
        self, experiment: Experiment, user: User, *, name: str = DEMO_PIPELINE
    ) -> None:
        """Promote the demo run and deploy it, once it has succeeded (idempotent)."""
        from django.test.utils import override_settings

        from engine.models import Deployment, Pipeline, RunStatus
        from engine.services.deployments import deployment_deploy
        from engine.services.pipelines import pipeline_promote

        run = (
            experiment.runs.filter(status=RunStatus.SUCCEEDED)
            .exclude(artifact_sha256="")
            .order_by("finished_at", "pk")
            .first()
        )
        if run is None:
            self.stdout.write(
                "Demo deployment: waiting for the demo run to succeed; run seed_demo again "
                "afterwards to promote and deploy it."
            )
            return
        pipeline = Pipeline.objects.filter(origin_run=run).order_by("version").first()
        if pipeline is None:
            pipeline = pipeline_promote(run=run, user=user, name=name)
        deployment = Deployment.objects.filter(
            project=experiment.project, pipeline__name=pipeline.name
        ).first()
        if deployment is None:
            from copilots.services import consult

            # The deploy gate wants a review: the offline one, so the demo needs no LLM. Should
            # it not approve, the demo deploys anyway and its history says so.
            with override_settings(COPILOT_MODEL=""):
                review = consult(type="deployment_review", obj=pipeline, user=None)
            self.stdout.write(f"Demo review: {review.advice.get('verdict')}")
            # No warm-up thread: this command exits right away.
            with override_settings(STUDIO_SERVING_WARM_UP=False):
                deployment, _ = deployment_deploy(
                    pipeline=pipeline, user=user, acknowledge_risks=True
                )
        self.stdout.write(
            f"Demo deployment: {deployment.slug} serves {deployment.pipeline} "
            f"(/deployments/{deployment.slug}/)"
        )
