"""The engine: projects, datasets, experiments, runs, pipelines and deployments.

Django code follows one rule, `engine/<layer>/<entity>.py`: `models/`, `services/` (writes),
`selectors/` (reads), `api/` (ninja routers), `schemas/`, `views/` (pages), `forms/`,
`tasks.py`, `urls.py`, with `storage.py` for file locations, `downloads.py` for file responses
and `signals.py` for Celery's hooks.

The Django-free core imports no Django, so the worker and the tests can use it on its own:
`runner/` (the PyCaret executor), `ingest/` (upload validation and profiling), `serving/`
(verified pipeline loading and prediction), `plans.py` (the plan language),
`model_registry.py`, `metrics.py` (PyCaret's metric names per task), `drift.py` and
`errors.py` (the one StudioError).
"""
