"""`manage.py seed_scale [--runs N] [--username U]`: a workspace with thousands of runs."""

import time

from django.core.management.base import BaseCommand, CommandError

from engine.services.scale import DEFAULT_RUNS, analyze_seeded_tables, scale_seed

PASSWORD = "scale-scale-scale"  # noqa: S105 (a local demo account)


class Command(BaseCommand):
    help = (
        "Create one workspace at scale with bulk inserts: by default 10,000 runs across 200 "
        "experiments, 500 datasets, 50 pipelines and deployments, 100,000 prediction-log rows "
        "and 1,000 consultations. --runs scales all of it in proportion."
    )

    def add_arguments(self, parser):
        parser.add_argument("--runs", type=int, default=DEFAULT_RUNS)
        parser.add_argument("--username", default="scale")
        parser.add_argument("--password", default=PASSWORD)

    def handle(self, *args, runs, username, password, **options):
        from accounts.models import User
        from accounts.services import user_signup

        if runs < 1 or runs > 1_000_000:
            raise CommandError("--runs must be between 1 and 1,000,000.")
        if User.objects.filter(username=username).exists():
            raise CommandError(f"User {username!r} exists already: pass another --username.")
        started = time.monotonic()
        user = user_signup(username=username, password=password, email=f"{username}@example.com")
        workspace = user.memberships.select_related("workspace").get().workspace
        sizes = scale_seed(user=user, workspace=workspace, runs=runs)
        analyze_seeded_tables()
        self.stdout.write(
            f"Seeded workspace {workspace.slug!r} for {username!r} in "
            f"{time.monotonic() - started:.1f} s: {sizes.runs} runs, {sizes.experiments} "
            f"experiments, {sizes.datasets} datasets, {sizes.pipelines} pipelines and "
            f"deployments, {sizes.predictions} prediction-log rows, {sizes.consultations} "
            "consultations."
        )
