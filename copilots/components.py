"""The copilots' page components: what each card or modal shows, and its template context.

The template tags (on other apps' pages) and the HTMX endpoints (after a consultation) build
the same context here, so a card renders the same whether the page or a swap drew it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, reverse

from accounts.access import permissions_in
from copilots import selectors
from copilots.models import Consultation


@dataclass(frozen=True)
class Component:
    type: str
    kind: str  # "card" (opt-in button) or "modal" (fires when it opens)
    title: str
    action: str
    again: str
    url_name: str
    blurb: str
    card_class: str = "card"
    button_class: str = ""
    slot: str = ""  # the host page's slot name (its `data-slot`)

    @property
    def fragment_template(self) -> str:
        return "copilots/_card.html" if self.kind == "card" else "copilots/_modal_result.html"


COMPONENTS = {
    c.type: c
    for c in (
        Component(
            type="run_explanation",
            slot="explain",
            kind="card",
            title="Explain this run",
            action="Explain",
            again="Explain again",
            url_name="copilots:run_explain",
            blurb="The leaderboard in words, why the best model won, and CV against holdout.",
        ),
        Component(
            type="failure_debugging",
            slot="diagnose",
            kind="card",
            title="Diagnose this failure",
            action="Diagnose",
            again="Re-diagnose",
            url_name="copilots:run_diagnose",
            blurb="Classifies the failure (DATA, CONFIG or ENGINE) and suggests a fix.",
            card_class="card card-danger",
            button_class="btn-danger",
        ),
        Component(
            type="drift_analysis",
            slot="drift",
            kind="card",
            title="Drift analyst",
            action="Analyze drift",
            again="Analyze again",
            url_name="copilots:deployment_drift",
            blurb="Which inputs moved away from the training data, how far, and whether to "
            "retrain.",
        ),
        Component(
            type="dataset_analysis",
            slot="analyze",
            kind="modal",
            title="Dataset analysis",
            action="Analyze",
            again="Analyze again",
            url_name="copilots:dataset_analyze",
            blurb="Missing values, odd columns, the target, imbalance and leakage suspects.",
            button_class="btn-secondary",
        ),
        Component(
            type="experiment_design",
            slot="design",
            kind="modal",
            title="Design an experiment",
            action="Design experiment",
            again="Design again",
            url_name="copilots:dataset_design",
            blurb="A task, target, setup options and first plan, checked against the engine.",
        ),
        Component(
            type="deployment_review",
            slot="review",
            kind="modal",
            title="Deployment review",
            action="✨ Review",
            again="Review again",
            url_name="copilots:pipeline_review",
            blurb="Risk checks on this pipeline and a verdict before you deploy it.",
            button_class="btn-secondary",
        ),
    )
}


def component(type: str) -> Component:
    try:
        return COMPONENTS[type]
    except KeyError:
        raise ValueError(f"Unknown copilot {type!r}") from None


def back_link(obj) -> tuple[str, str]:
    """(url, label) of the page the object lives on, for the no-JavaScript result page."""
    name = obj.__class__.__name__
    candidates = {
        "Dataset": [("dataset_detail", {"dataset_id": obj.pk})],
        "Run": [("run_detail", {"run_id": obj.pk})],
        "Pipeline": [("pipeline_detail", {"pipeline_id": obj.pk})],
        "Deployment": [
            ("deployment_detail", {"slug": getattr(obj, "slug", "")}),
            ("deployment_detail", {"deployment_id": obj.pk}),
        ],
    }.get(name, [])
    for url_name, kwargs in candidates:
        try:
            label = obj.label if name == "Run" else f"{name.lower()} {obj}"
            return reverse(url_name, kwargs=kwargs), f"Back to {label}"
        except NoReverseMatch:
            continue
    return reverse("dashboard"), "Back to the dashboard"


def context_for(
    request,
    type: str,
    obj,
    *,
    consultation: Consultation | None = None,
    error: str = "",
    fresh: bool = False,
) -> dict[str, Any]:
    """Everything a card, modal or result fragment needs.

    Without `consultation` the latest stored one is shown (no LLM call); `fresh` says the
    consultation was just made, so the modal result shows it rather than a stale one.
    """
    spec = component(type)
    history = selectors.consultations_of(obj, type=type, limit=10)
    if consultation is None and not fresh and history:
        consultation = history[0]
    dom_id = f"copilot-{type.replace('_', '-')}-{obj.pk}"
    workspace = selectors.object_workspace(obj)
    allowed = permissions_in(request, workspace) if request is not None else frozenset()
    advice = selectors.envelope(consultation) if consultation is not None else None
    return {
        "spec": spec,
        "obj": obj,
        "dom_id": dom_id,
        "endpoint": reverse(spec.url_name, args=[obj.pk]),
        "consultation": consultation,
        "advice": advice,
        "history": [c for c in history if consultation is None or c.pk != consultation.pk],
        "error": error,
        "can_write": "write" in allowed,
        "back": back_link(obj),
        **apply_link(type, advice, allowed),
    }


def apply_link(type: str, advice: dict[str, Any] | None, allowed) -> dict[str, str]:
    """Where "Apply" goes for a suggested configuration: the new-experiment form for an
    experiment, the New run form for a plan. Nothing is created until the person submits."""
    config = (advice or {}).get("suggested_config")
    if not isinstance(config, dict):
        return {}
    pk = advice["consultation_id"]
    if "experiment" in config and "write" in allowed:
        return {
            "apply_url": reverse("copilots:design_apply", args=[pk]),
            "apply_target": "#experiment-form" if type == "experiment_design" else "",
            "apply_help": "Fills in the new-experiment form; you review it and create the "
            "experiment.",
        }
    if "plan" in config and "train" in allowed and type == "failure_debugging":
        return {
            "apply_url": reverse("copilots:plan_apply", args=[pk]),
            "apply_target": "",
            "apply_help": "Fills in the New run form; you review it and submit the run.",
        }
    return {}
