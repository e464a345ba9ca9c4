"""Test factories for the engine: real services, real files, no shortcuts around validation."""

from __future__ import annotations

import pandas as pd
from django.core.files.base import ContentFile

from accounts.models import User
from conftest import workspace_of
from engine.models import Dataset, Experiment, Project


def make_project(user: User, name: str = "Churn") -> Project:
    """A project in the user's first workspace."""
    from engine.services.projects import project_create

    return project_create(workspace=workspace_of(user), name=name, user=user)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode("utf-8")


def make_dataset(
    project: Project, frame: pd.DataFrame, name: str = "data.csv", user: User | None = None
) -> Dataset:
    """Upload `frame` as a CSV through the real ingestion service."""
    from engine.services.datasets import dataset_ingest

    return dataset_ingest(
        project=project,
        file=ContentFile(csv_bytes(frame), name=name),
        filename=name,
        name=name,
        user=user or project.created_by,
    )


def make_experiment(
    dataset: Dataset,
    *,
    task: str = "classification",
    target: str | None = None,
    setup: dict | None = None,
    name: str = "exp",
    user: User | None = None,
) -> Experiment:
    """An experiment through the real service; the target defaults to the last column."""
    from engine.services.experiments import experiment_create

    return experiment_create(
        project=dataset.project,
        dataset=dataset,
        name=name,
        task=task,
        target=target if target is not None else dataset.column_names[-1],
        setup=setup,
        user=user or dataset.created_by,
    )


def breast_cancer_frame() -> pd.DataFrame:
    """scikit-learn's breast_cancer data: 569 rows, 30 numeric features and a 0/1 `target`."""
    from sklearn.datasets import load_breast_cancer

    return load_breast_cancer(as_frame=True).frame
