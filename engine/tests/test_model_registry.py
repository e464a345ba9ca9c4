"""The checked-in model registry matches what PyCaret itself offers."""

import pytest

from engine.model_registry import (
    CAPABILITIES,
    accepts_num_clusters,
    closest_model_ids,
    is_known_model,
    model_choices,
    num_clusters_models,
    predicting_clustering_models,
)
from engine.plans import TASKS
from engine.runner.dump_model_registry import (
    pycaret_model_names,
    pycaret_num_clusters_models,
    pycaret_predicting_clustering_models,
)

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.mark.parametrize("task", TASKS)
def test_registry_equals_pycaret_models(task):
    assert dict(model_choices(task)) == pycaret_model_names(task)


def test_num_clusters_models_equal_pycarets_models_with_n_clusters():
    assert num_clusters_models() == pycaret_num_clusters_models()
    assert accepts_num_clusters("kmeans")
    assert not accepts_num_clusters("dbscan")


def test_predicting_clustering_models_equal_pycarets_models_with_predict():
    assert predicting_clustering_models() == pycaret_predicting_clustering_models()
    assert "kmeans" in predicting_clustering_models()
    assert "hclust" not in predicting_clustering_models()


def test_lookups():
    assert ("lr", "Logistic Regression") in model_choices("classification")
    assert ("lr", "Linear Regression") in model_choices("regression")
    assert ("kmeans", "K-Means Clustering") in model_choices("clustering")
    assert ("iforest", "Isolation Forest") in model_choices("anomaly")
    assert ("arima", "ARIMA") in model_choices("time_series")
    assert is_known_model("classification", "rf")
    assert not is_known_model("classification", "zzzz_not_a_model")
    assert not is_known_model("clustering", "lr")
    assert model_choices("no_such_task") == []
    assert model_choices(CAPABILITIES) == []


def test_closest_model_ids_match_ids_and_names():
    assert closest_model_ids("classification", "lgbm")[0] == "lightgbm"
    assert closest_model_ids("classification", "forest")[0] == "rf"
    assert closest_model_ids("regression", "ridg")[0] == "ridge"
    assert len(closest_model_ids("classification", "tree", n=2)) <= 2
    assert closest_model_ids("classification", "zzzz_not_a_model") == []
    assert closest_model_ids("clustering", "k-means")[0] == "kmeans"
    assert closest_model_ids("anomaly", "isolation")[0] == "iforest"
    assert closest_model_ids("time_series", "autoarima")[0] == "auto_arima"
