"""The checked-in model registry matches what PyCaret itself offers."""

import pytest

from engine.model_registry import (
    closest_model_ids,
    is_known_model,
    model_choices,
)
from engine.plans import TASKS
from engine.runner.dump_model_registry import pycaret_model_names


@pytest.mark.parametrize("task", TASKS)
def test_registry_equals_pycaret_models(task):
    assert dict(model_choices(task)) == pycaret_model_names(task)


def test_lookups():
    assert ("lr", "Logistic Regression") in model_choices("classification")
    assert ("lr", "Linear Regression") in model_choices("regression")
    assert is_known_model("classification", "rf")
    assert not is_known_model("classification", "zzzz_not_a_model")
    assert not is_known_model("clustering", "lr")
    assert model_choices("clustering") == []


def test_closest_model_ids_match_ids_and_names():
    assert closest_model_ids("classification", "lgbm")[0] == "lightgbm"
    assert closest_model_ids("classification", "forest")[0] == "rf"
    assert closest_model_ids("regression", "ridg")[0] == "ridge"
    assert len(closest_model_ids("classification", "tree", n=2)) <= 2
    assert closest_model_ids("classification", "zzzz_not_a_model") == []
