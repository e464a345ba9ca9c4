"""Per-workspace quotas, so that an open studio cannot be used to burn CPU, disk or LLM spend.

Each quota is a setting (0 turns it off). Past one, the service refuses with a StudioError whose
message names the quota and its setting: 429 for queued plus running runs and for copilot calls
a day, 413 for the stored bytes of datasets.
"""

from __future__ import annotations

from datetime import UTC, datetime, time

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from accounts.models import Workspace
from engine.errors import StudioError

MB = 1024 * 1024


def _exceeded(message: str, *, status: int, setting: str, limit: int) -> StudioError:
    return StudioError(message, status=status, code="quota_exceeded", quota=setting, limit=limit)


def runs_active_check(*, workspace: Workspace) -> None:
    """Refuse one more run while the workspace already has its quota queued or running."""
    from engine.models import Run, RunStatus

    limit = settings.STUDIO_QUOTA_ACTIVE_RUNS
    if limit <= 0:
        return
    active = Run.objects.filter(
        experiment__project__workspace=workspace,
        status__in=[RunStatus.QUEUED, RunStatus.RUNNING],
    ).count()
    if active >= limit:
        raise _exceeded(
            f"This workspace already has {active} runs queued or running, its quota of {limit} "
            "(STUDIO_QUOTA_ACTIVE_RUNS). Wait for one to finish, or cancel one.",
            status=429,
            setting="STUDIO_QUOTA_ACTIVE_RUNS",
            limit=limit,
        )


def storage_used_bytes(*, workspace: Workspace) -> int:
    from engine.models import Dataset

    used = Dataset.objects.filter(project__workspace=workspace).aggregate(n=Sum("size_bytes"))["n"]
    return used or 0


def storage_check(*, workspace: Workspace, adding_bytes: int) -> None:
    """Refuse an upload that would take the workspace's datasets past its storage quota."""
    limit_mb = settings.STUDIO_QUOTA_STORAGE_MB
    if limit_mb <= 0:
        return
    used = storage_used_bytes(workspace=workspace)
    if used + max(adding_bytes, 0) > limit_mb * MB:
        raise _exceeded(
            f"This upload would take the workspace's datasets to "
            f"{(used + adding_bytes) / MB:.1f} MB, past its storage quota of {limit_mb} MB "
            "(STUDIO_QUOTA_STORAGE_MB). Delete a project or dataset to make room.",
            status=413,
            setting="STUDIO_QUOTA_STORAGE_MB",
            limit=limit_mb,
        )


def day_start() -> datetime:
    """Midnight UTC today: when the copilot-call quota starts counting afresh."""
    return datetime.combine(timezone.now().astimezone(UTC).date(), time.min, tzinfo=UTC)


def copilot_calls_check(*, workspace: Workspace, calls_today: int) -> None:
    """Refuse a copilot call once the workspace has made its quota of them today (UTC).
    The copilots count their own calls (`calls_today`, since `day_start()`)."""
    limit = settings.STUDIO_QUOTA_COPILOT_CALLS_PER_DAY
    if limit <= 0:
        return
    if calls_today >= limit:
        raise _exceeded(
            f"This workspace has made {calls_today} copilot calls today, its quota of {limit} a "
            "day (STUDIO_QUOTA_COPILOT_CALLS_PER_DAY). Try again tomorrow (UTC).",
            status=429,
            setting="STUDIO_QUOTA_COPILOT_CALLS_PER_DAY",
            limit=limit,
        )
