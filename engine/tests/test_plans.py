"""Plan and setup-option schemas: what the API accepts and how it explains a refusal."""

import pytest
from pydantic import ValidationError

from engine.plans import (
    BlendPlan,
    ComparePlan,
    CreatePlan,
    EnsemblePlan,
    PlanAdapter,
    SetupOptions,
    SetupPlan,
    TunePlan,
    parse_plan,
    plan_total_steps,
)


@pytest.mark.parametrize(
    ("data", "cls"),
    [
        ({"kind": "setup"}, SetupPlan),
        ({"kind": "compare"}, ComparePlan),
        ({"kind": "compare", "include": ["lr", "dt"], "n_select": 2, "sort": "AUC"}, ComparePlan),
        ({"kind": "compare", "exclude": ["gpc"], "budget_time": 0.5, "fold": 3}, ComparePlan),
        ({"kind": "create", "model_id": "rf", "params": {"max_depth": 3}}, CreatePlan),
        ({"kind": "tune", "model_id": "dt", "n_iter": 5, "optimize": "F1"}, TunePlan),
        ({"kind": "ensemble", "model_id": "dt", "method": "Boosting"}, EnsemblePlan),
        ({"kind": "blend", "model_ids": ["lr", "dt"]}, BlendPlan),
        ({"kind": "blend", "top_n": 3, "include": ["lr", "dt", "nb"]}, BlendPlan),
    ],
)
def test_valid_plans_parse_to_their_kind(data, cls):
    plan = parse_plan(data)
    assert isinstance(plan, cls)
    assert PlanAdapter.dump_python(plan)["kind"] == data["kind"]


def test_defaults_match_pycaret():
    compare = parse_plan({"kind": "compare"})
    assert (compare.n_select, compare.sort, compare.include, compare.fold) == (1, None, None, None)
    tune = parse_plan({"kind": "tune", "model_id": "lr"})
    assert (tune.n_iter, tune.optimize) == (10, None)
    ensemble = parse_plan({"kind": "ensemble", "model_id": "lr"})
    assert (ensemble.method, ensemble.n_estimators) == ("Bagging", 10)
    assert parse_plan({"kind": "create", "model_id": "lr"}).params == {}


def test_unknown_model_id_is_left_to_execute_time():
    assert parse_plan({"kind": "create", "model_id": "zzzz_not_a_model"}).model_id == (
        "zzzz_not_a_model"
    )


def _error_text(data) -> str:
    with pytest.raises(ValidationError) as info:
        parse_plan(data)
    return str(info.value)


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({}, "discriminator 'kind'"),
        ({"kind": "train"}, "'train'"),
        ({"kind": "create"}, "model_id"),
        ({"kind": "create", "model_id": ""}, "model_id"),
        ({"kind": "compare", "n_select": 0}, "n_select"),
        ({"kind": "compare", "n_select": 21}, "n_select"),
        ({"kind": "compare", "budget_time": 0}, "budget_time"),
        ({"kind": "compare", "include": ["lr"], "exclude": ["dt"]}, "not both"),
        ({"kind": "compare", "turbo": False}, "turbo"),
        ({"kind": "tune", "model_id": "lr", "n_iter": 0}, "n_iter"),
        ({"kind": "tune", "model_id": "lr", "n_iter": 201}, "n_iter"),
        ({"kind": "ensemble", "model_id": "lr", "method": "Stacking"}, "method"),
        ({"kind": "blend"}, "exactly one of model_ids or top_n"),
        ({"kind": "blend", "model_ids": ["lr", "dt"], "top_n": 2}, "exactly one"),
        ({"kind": "blend", "model_ids": ["lr"]}, "model_ids"),
        ({"kind": "blend", "top_n": 1}, "top_n"),
        ({"kind": "blend", "top_n": 11}, "top_n"),
        ({"kind": "blend", "model_ids": ["lr", "dt"], "include": ["nb"]}, "only apply with top_n"),
        ({"kind": "setup", "model_id": "lr"}, "model_id"),
    ],
)
def test_invalid_plans_say_what_is_wrong(data, fragment):
    assert fragment in _error_text(data)


def test_setup_options_defaults_and_only_explicit_kwargs():
    options = SetupOptions()
    assert options.train_size == 0.7
    assert options.fold == 10
    assert options.normalize is False
    assert options.imputation_type == "simple"
    assert options.to_setup_kwargs() == {}

    options = SetupOptions(fold=3, session_id=7, normalize=True, imputation_type=None)
    assert options.to_setup_kwargs() == {
        "fold": 3,
        "session_id": 7,
        "normalize": True,
        "imputation_type": None,
    }


def test_unknown_setup_option_is_rejected_by_name():
    with pytest.raises(ValidationError) as info:
        SetupOptions.model_validate({"fold": 3, "use_gpu": True})
    errors = info.value.errors()
    assert [e["loc"] for e in errors] == [("use_gpu",)]
    assert "use_gpu" in str(info.value)


@pytest.mark.parametrize(
    "options",
    [
        {"train_size": 1.0},
        {"train_size": 0},
        {"fold": 1},
        {"fold": 51},
        {"fold_strategy": "shuffle"},
        {"normalize_method": "l2"},
        {"imputation_type": "knn"},
        {"numeric_imputation": "average"},
        {"ignore_features": "a"},
    ],
)
def test_out_of_range_options_are_rejected(options):
    with pytest.raises(ValidationError) as info:
        SetupOptions.model_validate(options)
    assert next(iter(options)) in str(info.value)


def test_imputation_values_may_be_constants():
    assert SetupOptions(numeric_imputation=0).numeric_imputation == 0.0
    assert SetupOptions(numeric_imputation="knn").numeric_imputation == "knn"
    assert SetupOptions(categorical_imputation="missing").categorical_imputation == "missing"


def test_referenced_columns_and_role_conflicts():
    options = SetupOptions(ignore_features=["id"], categorical_features=["city", "zip"])
    assert options.referenced_columns() == {
        "ignore_features": ["id"],
        "categorical_features": ["city", "zip"],
    }
    with pytest.raises(ValidationError, match="'zip' is named in both"):
        SetupOptions(categorical_features=["zip"], numeric_features=["zip"])


def test_plan_total_steps_counts_setup_training_holdout_plots_artifact():
    assert plan_total_steps(parse_plan({"kind": "setup"}), 0) == 1
    compare = parse_plan({"kind": "compare", "include": ["lr", "dt", "nb"]})
    assert plan_total_steps(compare, 3) == 1 + 3 + 1 + 4 + 1
    create = parse_plan({"kind": "create", "model_id": "lr"})
    assert plan_total_steps(create, 0, task="regression") == 1 + 1 + 1 + 3 + 1


# The other tasks: their options, their plan arguments, and what each task can run.


def test_time_series_options_parse_and_pass_only_what_was_set():
    from engine.plans import TimeSeriesOptions, parse_setup_options

    options = parse_setup_options("time_series", {"date_column": "month", "fh": 12, "fold": 2})
    assert isinstance(options, TimeSeriesOptions)
    assert options.to_setup_kwargs() == {"fh": 12, "fold": 2}
    assert parse_setup_options("time_series", {"date_column": "m"}).to_setup_kwargs() == {"fh": 1}
    assert options.referenced_columns() == {"date_column": ["month"]}
    for bad in (
        {},
        {"date_column": "m", "fh": 0},
        {"date_column": "m", "fh": 1001},
        {"date_column": "m", "fold_strategy": "kfold"},
        {"date_column": "m", "normalize": True},
    ):
        with pytest.raises(ValidationError):
            parse_setup_options("time_series", bad)


def test_clustering_and_anomaly_refuse_options_about_a_split():
    from engine.plans import parse_setup_options

    assert parse_setup_options("clustering", {"normalize": True}).normalize
    with pytest.raises(ValueError, match="train_size, fold do not apply to clustering"):
        parse_setup_options("clustering", {"train_size": 0.8, "fold": 3})
    with pytest.raises(ValueError, match="fix_imbalance does not apply to anomaly detection"):
        parse_setup_options("anomaly", {"fix_imbalance": True})
    assert parse_setup_options("classification", {"train_size": 0.8}).train_size == 0.8


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "create", "model_id": "kmeans", "num_clusters": 1},
        {"kind": "create", "model_id": "iforest", "fraction": 0},
        {"kind": "create", "model_id": "iforest", "fraction": 0.51},
        {"kind": "create", "model_id": "iforest", "plots": []},
    ],
)
def test_create_arguments_of_the_unsupervised_tasks_are_bounded(data):
    with pytest.raises(ValidationError):
        parse_plan(data)


def test_each_task_names_what_it_cannot_run():
    from engine.capabilities import extra_plots, plan_problems, plots_to_draw

    def problems(task, data):
        return [field for field, _ in plan_problems(parse_plan(data), task)]

    assert problems("clustering", {"kind": "create", "model_id": "kmeans", "num_clusters": 3}) == []
    assert problems("clustering", {"kind": "tune", "model_id": "kmeans"}) == ["kind"]
    assert problems("clustering", {"kind": "create", "model_id": "ap", "num_clusters": 3}) == [
        "num_clusters"
    ]
    assert problems("anomaly", {"kind": "create", "model_id": "knn", "fraction": 0.1}) == []
    assert problems("time_series", {"kind": "tune", "model_id": "arima"}) == []
    assert problems("time_series", {"kind": "ensemble", "model_id": "arima"}) == ["kind"]
    assert problems("regression", {"kind": "create", "model_id": "lr", "plots": ["tsne"]}) == [
        "plots"
    ]
    assert problems("classification", {"kind": "blend", "top_n": 2}) == []
    assert "umap" not in extra_plots("anomaly")  # umap-learn is not installed here
    plan = parse_plan({"kind": "create", "model_id": "kmeans", "plots": ["tsne", "elbow"]})
    assert plots_to_draw(plan, "clustering") == ["elbow", "cluster", "distribution", "tsne"]
    assert plan_total_steps(plan, 0, task="clustering") == 1 + 1 + 1 + 4 + 1
    compare = parse_plan({"kind": "compare", "include": ["naive", "arima"]})
    assert plan_total_steps(compare, 2, task="time_series") == 1 + 2 + 1 + 1 + 2 + 1
