"""Template helpers for finding things: one breadcrumb trail for every page.

The trail is always workspace / project / experiment / run (or dataset), and workspace /
project / Pipelines / pipeline and workspace / project / Deployments / deployment.
"""

from __future__ import annotations

from django import template
from django.urls import reverse

from accounts.models import Workspace
from engine.models import Dataset, Deployment, Experiment, Pipeline, Project, Run

register = template.Library()


def trail(obj) -> list[tuple[str, str]]:
    """(label, url) from the workspace down to `obj`, which comes last."""
    if isinstance(obj, Workspace):
        return [(obj.name, f"{reverse('dashboard')}?workspace={obj.pk}")]
    if isinstance(obj, Project):
        return trail(obj.workspace) + [(obj.name, reverse("project_detail", args=[obj.pk]))]
    if isinstance(obj, Dataset):
        return trail(obj.project) + [(obj.name, reverse("dataset_detail", args=[obj.pk]))]
    if isinstance(obj, Experiment):
        return trail(obj.project) + [(obj.name, reverse("experiment_detail", args=[obj.pk]))]
    if isinstance(obj, Run):
        return trail(obj.experiment) + [(obj.label, reverse("run_detail", args=[obj.pk]))]
    if isinstance(obj, Pipeline):
        return trail(obj.project) + [
            ("Pipelines", reverse("project_pipelines", args=[obj.project_id])),
            (f"{obj.name} v{obj.version}", reverse("pipeline_detail", args=[obj.pk])),
        ]
    if isinstance(obj, Deployment):
        return trail(obj.project) + [
            ("Deployments", f"{reverse('deployment_list')}?project={obj.project_id}"),
            (obj.slug, reverse("deployment_detail", args=[obj.slug])),
        ]
    raise TypeError(f"No breadcrumbs for {type(obj).__name__}")


@register.inclusion_tag("engine/_breadcrumbs.html")
def breadcrumbs(obj, *tail: str):
    """The trail to `obj`. With `tail` (plain labels, such as "Pipelines" or "New
    experiment"), `obj` is linked and the last label is the current page; without, `obj` is."""
    crumbs = [{"label": label, "url": url} for label, url in trail(obj)]
    crumbs += [{"label": label, "url": ""} for label in tail]
    crumbs[-1]["url"] = ""
    return {"crumbs": crumbs}
