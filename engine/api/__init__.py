"""The engine's API routers, one module per resource; mounted by pycaret_studio/api.py."""

from ninja import Router

from engine.api import datasets, deployments, experiments, pipelines, projects, runs

router = Router()
router.add_router("", projects.router)
router.add_router("", datasets.router)
router.add_router("", experiments.router)
router.add_router("", runs.router)
router.add_router("", pipelines.router)
router.add_router("", deployments.router)
