"""Search across what the caller can see: projects, datasets, experiments, runs, pipelines and
deployments, by name and by id ("12" or "#12")."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db.models import Case, IntegerField, Q, When

from accounts.access import scoped
from engine.models import Dataset, Deployment, Experiment, Pipeline, Project, Run
from engine.selectors import VIA_EXPERIMENT, VIA_PROJECT

QUERY_MIN = 2  # a name search needs this many characters; an id needs one digit
QUERY_MAX = 200
PER_KIND = 10
ID_MAX = 2**63 - 1
_ID = re.compile(r"^#?\s*(\d{1,19})$")


@dataclass
class SearchResults:
    query: str = ""
    problem: str = ""  # why nothing was searched: empty or too short
    groups: list[dict] = field(default_factory=list)  # [{kind, title, items: [{label, url}]}]

    @property
    def total(self) -> int:
        return sum(len(group["items"]) for group in self.groups)


def _id_of(query: str) -> int | None:
    match = _ID.match(query)
    if match is None:
        return None
    value = int(match.group(1))
    return value if value <= ID_MAX else None


def _matches(text_fields: tuple[str, ...], query: str, found_id: int | None) -> Q:
    condition = Q(pk=found_id) if found_id is not None else Q()
    if len(query) >= QUERY_MIN:
        for name in text_fields:
            condition |= Q(**{f"{name}__icontains": query})
    return condition


def search(*, request, query: str, per_kind: int = PER_KIND) -> SearchResults:
    """Up to `per_kind` matches of each kind, an exact id first, then the newest."""
    from django.urls import reverse

    # PostgreSQL takes no NUL in a pattern: dropped with the other spacing
    query = " ".join((query or "").replace("\x00", " ").split())[:QUERY_MAX]
    results = SearchResults(query=query)
    found_id = _id_of(query)
    if not query:
        results.problem = "Type a name, or an id such as 12 or #12."
        return results
    if found_id is None and len(query) < QUERY_MIN:
        results.problem = f"Type at least {QUERY_MIN} characters, or an id such as #12."
        return results

    kinds = [
        (
            "projects",
            "Projects",
            scoped(request, Project.objects.all()).select_related("workspace"),
            ("name", "description"),
            lambda p: (p.name, reverse("project_detail", args=[p.pk]), p.workspace.name),
        ),
        (
            "datasets",
            "Datasets",
            scoped(request, Dataset.objects.all(), workspace_field=VIA_PROJECT)
            .select_related("project")
            .only("pk", "name", "project__name"),
            ("name", "original_filename"),
            lambda d: (d.name, reverse("dataset_detail", args=[d.pk]), d.project.name),
        ),
        (
            "experiments",
            "Experiments",
            scoped(request, Experiment.objects.all(), workspace_field=VIA_PROJECT)
            .select_related("project")
            .only("pk", "name", "task", "project__name"),
            ("name", "target"),
            lambda e: (e.name, reverse("experiment_detail", args=[e.pk]), e.project.name),
        ),
        (
            "runs",
            "Runs",
            scoped(request, Run.objects.all(), workspace_field=VIA_EXPERIMENT)
            .select_related("experiment")
            .only("pk", "plan", "status", "model_id", "model_name", "experiment__name"),
            ("model_id", "model_name"),
            lambda r: (
                r.label,
                reverse("run_detail", args=[r.pk]),
                f"{r.experiment.name} · {r.get_status_display()}",
            ),
        ),
        (
            "pipelines",
            "Pipelines",
            scoped(request, Pipeline.objects.all(), workspace_field=VIA_PROJECT)
            .select_related("project")
            .only("pk", "name", "version", "model_id", "project__name"),
            ("name", "model_id", "model_name"),
            lambda p: (
                f"{p.name} v{p.version}",
                reverse("pipeline_detail", args=[p.pk]),
                p.project.name,
            ),
        ),
        (
            "deployments",
            "Deployments",
            scoped(request, Deployment.objects.all(), workspace_field=VIA_PROJECT)
            .select_related("project")
            .only("pk", "slug", "is_active", "project__name"),
            ("slug",),
            lambda d: (d.slug, reverse("deployment_detail", args=[d.slug]), d.project.name),
        ),
    ]
    for kind, title, queryset, text_fields, describe in kinds:
        matching = queryset.filter(_matches(text_fields, query, found_id)).order_by(
            Case(When(pk=found_id or 0, then=0), default=1, output_field=IntegerField()), "-pk"
        )
        items = []
        for row in matching[:per_kind]:
            label, url, context = describe(row)
            items.append({"label": label, "url": url, "context": context, "id": row.pk})
        if items:
            results.groups.append({"kind": kind, "title": title, "items": items})
    return results
