"""API routes for runs: submit, list, get, compare, events, cancel and re-run."""

from ninja import Field, Query, Router, Schema

from accounts.access import require
from engine import downloads
from engine.schemas.runs import CompareOut, RunEventOut, RunIn, RunOut
from engine.selectors.comparisons import COMPARE_MAX, COMPARE_MIN, compare_ids, run_compare
from engine.selectors.experiments import experiment_get
from engine.selectors.runs import run_events, run_get, run_list
from engine.services import archive, runs
from pycaret_studio.pagination import LIMIT_MAX, PageQuery, page_url, paged, paginate
from pycaret_studio.schemas import Count, Id, PlotName

router = Router(tags=["runs"])


class EventsQuery(Schema):
    after: Count = Field(0, description="Only events with a sequence number above this one.")
    limit: int = Field(
        LIMIT_MAX,
        ge=1,
        le=LIMIT_MAX,
        description=f"How many events: 1 to {LIMIT_MAX} (default {LIMIT_MAX}); more is a 422.",
    )


@router.post("/experiments/{experiment_id}/runs", response={202: RunOut})
def runs_submit(request, experiment_id: Id, payload: RunIn):
    experiment = experiment_get(request=request, experiment_id=experiment_id)
    run = runs.run_submit(
        experiment=experiment, plan=payload.plan, user=request.user, request=request
    )
    return 202, run


@router.get("/experiments/{experiment_id}/runs", response=paged(RunOut))
def runs_list(request, experiment_id: Id, page: Query[PageQuery], archived: bool = False):
    """The experiment's runs, newest first; archived ones too with ?archived=true."""
    experiment = experiment_get(request=request, experiment_id=experiment_id)
    require(request, experiment.project.workspace, "read")
    return paginate(request, run_list(experiment=experiment, archived=archived), page)


class CompareQuery(Schema):
    ids: str = Field(
        ...,
        max_length=200,
        description=f"{COMPARE_MIN} to {COMPARE_MAX} run ids, comma-separated: 1,2,3.",
    )


# Before /runs/{run_id}, which would otherwise take "compare" for an id.
@router.get("/runs/compare", response=CompareOut, summary="Compare 2 to 5 runs side by side")
def runs_compare(request, query: Query[CompareQuery]):
    """Settings as a diff, scores with the best of each row, per-fold scores and plots. Any
    run the caller cannot see answers 404; fewer than 2 or more than 5 ids, 422."""
    comparison = run_compare(request=request, run_ids=compare_ids([query.ids]))
    for item in comparison["runs"]:
        require(request, item["run"].experiment.project.workspace, "read")
    return comparison


@router.get("/runs/{run_id}", response=RunOut)
def runs_get(request, run_id: Id):
    run = run_get(request=request, run_id=run_id)
    require(request, run.experiment.project.workspace, "read")
    return run


@router.get("/runs/{run_id}/events", response=paged(RunEventOut))
def runs_events(request, run_id: Id, query: Query[EventsQuery]):
    """The run's events oldest first, paged by cursor: `next` reads on with `?after=` the
    last sequence number of this page. `count` is every event the run has. While the run is
    active, `next` is null once the newest event is read: poll with `?after=` the last `seq`."""
    run = run_get(request=request, run_id=run_id)
    require(request, run.experiment.project.workspace, "read")
    events = list(run_events(run=run, after=query.after, limit=query.limit + 1))
    more = len(events) > query.limit
    events = events[: query.limit]
    return {
        "items": events,
        "count": run.events.count(),
        "next": page_url(request, after=events[-1].seq, limit=query.limit) if more else None,
    }


@router.post("/runs/{run_id}/cancel", response=RunOut)
def runs_cancel(request, run_id: Id):
    run = run_get(request=request, run_id=run_id)
    return runs.run_cancel(run=run, user=request.user, request=request)


@router.post("/runs/{run_id}/rerun", response={202: RunOut})
def runs_rerun(request, run_id: Id):
    """Submit the same plan on the same experiment again."""
    run = run_get(request=request, run_id=run_id)
    return 202, runs.run_rerun(run=run, user=request.user, request=request)


@router.post("/runs/{run_id}/archive", response=RunOut)
def runs_archive(request, run_id: Id):
    """Hide the run from the default lists; nothing is deleted."""
    run = run_get(request=request, run_id=run_id)
    return archive.archive_set(obj=run, archived=True, user=request.user, request=request)


@router.post("/runs/{run_id}/restore", response=RunOut)
def runs_restore(request, run_id: Id):
    run = run_get(request=request, run_id=run_id)
    return archive.archive_set(obj=run, archived=False, user=request.user, request=request)


@router.delete("/runs/{run_id}", response={204: None})
def runs_delete(request, run_id: Id):
    """Deletes its pipelines too; 409 while it is queued or running (cancel it first) or a
    live deployment depends on it (the deployment is named)."""
    run = run_get(request=request, run_id=run_id)
    archive.object_delete(obj=run, user=request.user, request=request)
    return 204, None


@router.get("/runs/{run_id}/plots/{name}", summary="A run's plot, as PNG")
def runs_plot(request, run_id: Id, name: PlotName):
    run = run_get(request=request, run_id=run_id)
    require(request, run.experiment.project.workspace, "read")
    return downloads.run_plot(run, name, missing=f"Run {run.pk} has no plot named {name!r}.")
