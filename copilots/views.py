"""Copilot pages: one endpoint per copilot, plus "Apply" for a suggested experiment.

GET renders the component (its latest stored advice; never an LLM call). POST consults and
answers the fragment for HTMX (the card, or the modal's result) or, without JavaScript, a page
that shows the result.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from accounts.access import get_scoped_or_404, permissions_in, require
from copilots import selectors
from copilots.components import component, context_for
from copilots.models import Consultation, ConsultationType
from copilots.services import consult
from engine.errors import StudioError

PAGE = "copilots/consultation_page.html"
GOAL_MAX = 500


def _respond(request, *, type: str, obj, **kw):
    require(request, selectors.object_workspace(obj), "read")
    spec = component(type)
    consultation, error, status = None, "", 200
    if request.method == "POST":
        try:
            consultation = consult(type=type, obj=obj, user=request.user, request=request, **kw)
        except StudioError as exc:
            error, status = exc.message, exc.status
    context = context_for(
        request,
        type,
        obj,
        consultation=consultation,
        error=error,
        fresh=request.method == "POST",
    )
    if request.htmx:
        context["in_dialog"] = True
        if spec.kind == "modal" and request.method == "GET":
            return render(request, "copilots/_modal.html", context, status=status)
        return render(request, spec.fragment_template, context, status=status)
    return render(request, PAGE, context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def dataset_analyze(request, dataset_id: int):
    dataset = selectors.dataset_for(request=request, dataset_id=dataset_id)
    return _respond(request, type="dataset_analysis", obj=dataset)


@login_required
@require_http_methods(["GET", "POST"])
def dataset_design(request, dataset_id: int):
    dataset = selectors.dataset_for(request=request, dataset_id=dataset_id)
    goal = (request.POST.get("goal") or "").strip()[:GOAL_MAX] or None
    return _respond(request, type="experiment_design", obj=dataset, goal=goal)


@login_required
@require_http_methods(["GET", "POST"])
def run_explain(request, run_id: int):
    run = selectors.run_for(request=request, run_id=run_id)
    return _respond(request, type="run_explanation", obj=run)


@login_required
@require_http_methods(["GET", "POST"])
def run_diagnose(request, run_id: int):
    run = selectors.run_for(request=request, run_id=run_id)
    return _respond(request, type="failure_debugging", obj=run)


@login_required
@require_http_methods(["GET", "POST"])
def pipeline_review(request, pipeline_id: int):
    pipeline = selectors.pipeline_for(request=request, pipeline_id=pipeline_id)
    return _respond(request, type="deployment_review", obj=pipeline)


@login_required
@require_http_methods(["GET", "POST"])
def deployment_drift(request, deployment_id: int):
    deployment = selectors.deployment_for(request=request, deployment_id=deployment_id)
    return _respond(request, type="drift_analysis", obj=deployment)


def _form_initial(config: dict) -> dict:
    """The experiment form's initial values from a validated suggested_config."""
    from engine.forms import experiment_initial

    experiment = config["experiment"]
    return experiment_initial(
        name=experiment["name"],
        task=experiment["task"],
        target=experiment["target"],
        setup=experiment.get("setup") or {},
    )


@login_required
@require_GET
def design_apply(request, consultation_id: int):
    """The new-experiment form, filled in from a suggestion. Nothing is created until the
    person submits it (to the engine's own create view, which validates it again)."""
    from copilots.consultations.experiment_design import validate_config
    from engine.forms import ExperimentForm

    consultation = get_scoped_or_404(
        request,
        Consultation.objects.select_related(
            "dataset__project__workspace", "experiment__dataset__project__workspace"
        ),
        pk=consultation_id,
        type__in=[ConsultationType.EXPERIMENT_DESIGN, ConsultationType.FAILURE_DEBUGGING],
    )
    dataset = consultation.dataset or (
        consultation.experiment.dataset if consultation.experiment_id else None
    )
    config = (consultation.advice or {}).get("suggested_config")
    if dataset is None or not config or "experiment" not in config:
        raise Http404("This consultation has no configuration to apply.")
    # Re-validated: only a configuration the engine accepts today prefills the form.
    config, _problems = validate_config(config, dataset)
    if config is None:
        raise Http404("The suggested configuration no longer fits this dataset.")
    form = ExperimentForm(dataset=dataset, initial=_form_initial(config))
    context = {
        "dataset": dataset,
        "project": dataset.project,
        "experiment_form": form,
        "can_write": "write" in permissions_in(request, dataset.project.workspace),
    }
    if request.htmx:
        return render(request, "engine/_experiment_form.html", context)
    return render(request, "engine/experiment_form.html", context)


@login_required
@require_GET
def plan_apply(request, consultation_id: int):
    """The New run form of a failed run's experiment, filled in from the debugger's corrected
    plan. Nothing runs until the person submits it (to the engine's own run view)."""
    from engine.forms import RunPlanForm, plan_initial, plan_leftovers
    from engine.plans import parse_plan

    consultation = get_scoped_or_404(
        request,
        Consultation.objects.select_related("experiment__project__workspace", "run"),
        pk=consultation_id,
        type=ConsultationType.FAILURE_DEBUGGING,
    )
    config = (consultation.advice or {}).get("suggested_config") or {}
    experiment = consultation.experiment
    if experiment is None or not isinstance(config.get("plan"), dict):
        raise Http404("This consultation has no plan to apply.")
    try:
        plan = parse_plan(config["plan"]).model_dump(mode="json", exclude_none=True)
    except ValueError:
        raise Http404("The suggested plan is no longer valid.") from None
    context = {
        "experiment": experiment,
        "project": experiment.project,
        "dataset": experiment.dataset,
        "run": consultation.run,
        "run_form": RunPlanForm(task=experiment.task, initial=plan_initial(plan)),
        "submitted": None,
        "leftovers": plan_leftovers(plan),
    }
    if request.htmx:
        return render(request, "engine/runs/_experiment_runs.html#run-form", context)
    return render(request, "copilots/apply_plan.html", context)
