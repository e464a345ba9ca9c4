"""The rule book, rule by rule: plain values in, judgements and risks out (no database)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from copilots.rules import (
    columns,
    environment,
    fitness,
    imbalance,
    leakage,
    plans,
    preprocessing,
    risks,
    sample_size,
)


def names(found: list[dict[str, str]]) -> dict[str, str]:
    """{risk name: severity}."""
    return {r["name"]: r["severity"] for r in found}


# Risks and the verdict floor.


def test_sort_risks_puts_the_most_severe_first_and_keeps_the_order_within_a_severity():
    found = [
        risks.risk("a", "low", ""),
        risks.risk("b", "high", ""),
        risks.risk("c", "medium", ""),
        risks.risk("d", "high", ""),
    ]
    assert [r["name"] for r in risks.sort_risks(found)] == ["b", "d", "c", "a"]


def test_verdict_floor():
    high = risks.risk("overfit", "high", "CV 1")
    medium = risks.risk("skew", "medium", "pandas 2.1 vs 2.2")
    low = risks.risk("margin", "low", "tied")
    assert risks.verdict_floor([low, medium, high]) == "DO NOT DEPLOY: overfit (CV 1)"
    assert risks.verdict_floor([low, medium]) == ("APPROVE WITH CAVEATS: skew (pandas 2.1 vs 2.2)")
    assert risks.verdict_floor([low]) == "APPROVE"
    assert risks.verdict_floor([]) == "APPROVE"


# Columns.


@pytest.mark.parametrize(
    "column, n_rows, expected",
    [
        ({"name": "customer_id", "kind": "numeric", "dtype": "int64", "unique": 100}, 100, True),
        ({"name": "amount", "kind": "numeric", "dtype": "int64", "unique": 100}, 100, True),
        ({"name": "amount", "kind": "numeric", "dtype": "float64", "unique": 100}, 100, False),
        ({"name": "row_number", "kind": "numeric", "dtype": "float64", "unique": 100}, 100, True),
        ({"name": "email", "kind": "categorical", "dtype": "object", "unique": 100}, 100, True),
        ({"name": "customer_id", "kind": "numeric", "dtype": "int64", "unique": 99}, 100, False),
        ({"name": "id", "kind": "numeric", "dtype": "int64", "unique": 1}, 1, False),
    ],
)
def test_id_like_columns(column, n_rows, expected):
    assert columns.is_id_like(column, n_rows) is expected


def test_constant_high_cardinality_and_mostly_missing():
    assert columns.is_constant({"unique": 1}) and columns.is_constant({"unique": None})
    assert not columns.is_constant({"unique": 2})
    assert columns.is_high_cardinality({"kind": "categorical", "unique": 51})
    assert not columns.is_high_cardinality({"kind": "categorical", "unique": 50})
    assert not columns.is_high_cardinality({"kind": "numeric", "unique": 5_000})
    assert columns.is_mostly_missing(0.5) and not columns.is_mostly_missing(0.4999)


def test_target_names():
    assert columns.has_target_name(" Churn ")
    assert columns.has_target_name("is_fraud")
    assert not columns.has_target_name("churn_rate")


@pytest.mark.parametrize(
    "column, task",
    [
        ({"kind": "categorical", "dtype": "object", "unique": 300}, "classification"),
        ({"kind": "boolean", "dtype": "bool", "unique": 2}, "classification"),
        ({"kind": "numeric", "dtype": "float64", "unique": 2}, "classification"),
        ({"kind": "numeric", "dtype": "int64", "unique": 20}, "classification"),
        ({"kind": "numeric", "dtype": "int64", "unique": 21}, "regression"),
        ({"kind": "numeric", "dtype": "float64", "unique": 3}, "regression"),
        ({}, "regression"),
    ],
)
def test_guess_task(column, task):
    assert columns.guess_task(column) == task


def test_top_classes_are_largest_first_and_capped():
    counts = {"a": 1, "b": 5, "c": 5, "d": 3}
    assert list(columns.top_classes(counts)) == ["b", "c", "d", "a"]
    assert columns.top_classes(counts, limit=2) == {"b": 5, "c": 5}


# Imbalance.


def test_minority_share():
    assert imbalance.minority_share({}) is None
    assert imbalance.minority_share({"no": 90, "yes": 10}) == 0.1


@pytest.mark.parametrize(
    "share, severity",
    [(None, None), (0.5, None), (0.2, None), (0.19, "medium"), (0.05, "medium"), (0.049, "high")],
)
def test_imbalance_severity(share, severity):
    assert imbalance.imbalance_severity(share) == severity
    assert imbalance.is_imbalanced(share) is (severity is not None)


def test_ranking_an_imbalanced_target_by_accuracy_is_a_medium_risk():
    found = imbalance.sort_metric_risks(task="classification", metric="Accuracy", share=0.1)
    assert names(found) == {"sort metric does not fit an imbalanced target": "medium"}
    assert "the smallest class is 10.0% of the rows" in found[0]["evidence"]
    assert not imbalance.sort_metric_risks(task="classification", metric="F1", share=0.1)
    assert not imbalance.sort_metric_risks(task="classification", metric="Accuracy", share=0.3)
    assert not imbalance.sort_metric_risks(task="regression", metric="Accuracy", share=0.1)


# Leakage.


def test_stump_purity_and_correlation_ratio():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    assert leakage.stump_accuracy(x, np.array([0, 0, 1, 1])) == 1.0
    assert leakage.stump_accuracy(np.ones(4), np.array([0, 0, 0, 1])) == 0.75
    groups = np.array(["a", "a", "b", "b"])
    assert leakage.purity(groups, np.array([0, 0, 1, 1])) == 1.0
    assert leakage.purity(groups, np.array([0, 1, 1, 1])) == 0.75
    assert leakage.correlation_ratio(groups, np.array([1.0, 1.0, 5.0, 5.0])) == 1.0
    assert leakage.correlation_ratio(groups, np.array([2.0, 2.0, 2.0, 2.0])) == 0.0


def _profile(frame: pd.DataFrame, target: str) -> list[dict]:
    kinds = {"O": "categorical", "b": "boolean"}
    return [
        {"name": name, "kind": kinds.get(frame[name].dtype.kind, "numeric"), "unique": 0}
        for name in frame.columns
        if name != target
    ]


def test_classification_suspects():
    rng = np.random.default_rng(3)
    y = (rng.random(200) < 0.3).astype(int)
    frame = pd.DataFrame(
        {
            "refund": y * 10 + rng.integers(0, 2, 200),
            "status": np.where(y == 1, "closed", "open"),
            "noise": rng.normal(0, 1, 200),
            "target": y,
        }
    )
    suspects, note = leakage.frame_suspects(
        frame, target="target", task="classification", features=_profile(frame, "target")
    )
    assert note is None
    assert [(s["column"], s["test"]) for s in suspects] == [
        ("refund", "single-feature decision stump accuracy"),
        ("status", "category purity (rows in their category's majority class)"),
    ]
    assert suspects[0]["score"] == 1.0
    assert suspects[0]["baseline"] == round(float(np.mean(y == 0)), 4)


def test_a_majority_class_alone_makes_no_suspect():
    y = np.zeros(100, dtype=int)
    y[50] = 1  # one positive in the middle: no single threshold isolates it
    frame = pd.DataFrame({"x": np.arange(100.0), "target": y})
    suspects, _ = leakage.frame_suspects(
        frame, target="target", task="classification", features=_profile(frame, "target")
    )
    assert suspects == []  # the stump scores 0.99, but so does always answering 0


def test_regression_suspects():
    rng = np.random.default_rng(1)
    price = rng.normal(100, 20, 200).round(2)
    frame = pd.DataFrame(
        {
            "with_tax": price * 1.21,
            "region": rng.choice(["north", "south"], 200),
            "tenure": rng.integers(1, 60, 200),
            "price": price,
        }
    )
    suspects, note = leakage.frame_suspects(
        frame, target="price", task="regression", features=_profile(frame, "price")
    )
    assert note is None
    assert [(s["column"], s["test"]) for s in suspects] == [
        ("with_tax", "absolute Pearson correlation with the target")
    ]
    frame["price"] = np.where(frame["region"] == "north", 150.0, 50.0)
    suspects, _ = leakage.frame_suspects(
        frame, target="price", task="regression", features=_profile(frame, "price")
    )
    assert [(s["column"], s["test"]) for s in suspects] == [
        ("region", "share of target variance explained by the category (eta squared)")
    ]


def test_too_few_target_values_say_so():
    frame = pd.DataFrame({"x": range(20), "target": [1.0] * 9 + [None] * 11})
    suspects, note = leakage.frame_suspects(
        frame, target="target", task="regression", features=_profile(frame, "target")
    )
    assert suspects == []
    assert note == "Too few rows with a target value to check for leakage."


# Fitness: perfect scores, the holdout gap, the margin.


def test_a_near_perfect_cv_score_is_a_high_risk_on_the_sort_or_default_metric():
    found = fitness.overfit_risks(
        task="classification", metric="F1", best={"F1": 0.8, "Accuracy": 0.9995}, holdout={}
    )
    assert names(found) == {"overfit: perfect cross-validation score": "high"}
    assert found[0]["evidence"].startswith("CV Accuracy = 0.9995 (≥ 0.999)")
    assert not fitness.overfit_risks(
        task="regression", metric="MAE", best={"MAE": 0.0, "R2": 0.99}, holdout={}
    )


@pytest.mark.parametrize(
    "metric, cv, holdout, severity, words",
    [
        ("Accuracy", 0.95, 0.8, "high", "holdout Accuracy 0.8 is 0.15 below CV 0.95"),
        ("Accuracy", 0.9, 0.84, "medium", "holdout Accuracy 0.84 is 0.06 below CV 0.9"),
        ("Accuracy", 0.9, 0.86, None, ""),
        ("MAE", 10.0, 16.0, "high", "holdout MAE 16 is 60% worse than CV 10"),
        ("MAE", 10.0, 13.0, "medium", "holdout MAE 13 is 30% worse than CV 10"),
        ("MAE", 10.0, 12.0, None, ""),
    ],
)
def test_holdout_far_below_cv(metric, cv, holdout, severity, words):
    task = "classification" if metric == "Accuracy" else "regression"
    found = fitness.overfit_risks(
        task=task, metric=metric, best={metric: cv}, holdout={metric: holdout}
    )
    if severity is None:
        assert found == []
    else:
        assert names(found) == {"overfit: holdout far below cross-validation": severity}
        assert found[0]["evidence"] == words


def test_margin_within_noise():
    assert fitness.within_noise(0.0049) and not fitness.within_noise(0.005)
    lr = {"model_id": "lr", "Accuracy": 0.861}
    rf = {"model_id": "rf", "Accuracy": 0.859}
    found = fitness.margin_risks(metric="Accuracy", best=lr, runner_up=rf)
    assert names(found) == {"tiny margin over the runner-up": "low"}
    assert found[0]["evidence"].startswith("lr 0.861 vs rf 0.859 Accuracy: a difference of 0.002")
    dt = {"model_id": "dt", "Accuracy": 0.83}
    assert fitness.margin_risks(metric="Accuracy", best=lr, runner_up=dt) == []
    assert fitness.margin_risks(metric="Accuracy", best=lr, runner_up=None) == []


# Sample size.


@pytest.mark.parametrize(
    "rows, severity", [(99, "high"), (100, "medium"), (299, "medium"), (999, "low"), (1000, None)]
)
def test_small_training_sample(rows, severity):
    found = names(sample_size.sample_size_risks(train_rows=rows, n_features=1))
    assert found.get("small training sample") == severity


@pytest.mark.parametrize(
    "n_features, severity",
    [(401, "high"), (400, "medium"), (201, "medium"), (200, "low"), (101, "low"), (100, None)],
)
def test_few_rows_per_feature(n_features, severity):
    found = sample_size.sample_size_risks(train_rows=2000, n_features=n_features)
    assert names(found).get("few rows per feature") == severity


def test_rows_per_feature_wording_and_no_features():
    found = sample_size.sample_size_risks(train_rows=84, n_features=6)
    assert found[1]["evidence"] == "84 training rows for 6 features (14.0 per feature)"
    assert names(sample_size.sample_size_risks(train_rows=2000, n_features=0)) == {}


# Preprocessing.


@pytest.mark.parametrize(
    "value, rows",
    [([84, 6], 84), ("(2100, 6)", 2100), ("rows 700 cols 3", 700), ("", None), (None, None)],
)
def test_shape_rows(value, rows):
    assert preprocessing.shape_rows(value) == rows


def test_train_rows_reads_either_shape_whatever_its_case():
    assert preprocessing.train_rows({"Transformed train set shape": [84, 6]}) == 84
    assert preprocessing.train_rows({"Train data shape": "(450, 6)"}) == 450
    assert preprocessing.train_rows({"Imputation type": "simple"}) is None


def test_preprocessing_risks():
    def check(summary, missing=("age",), categorical=("plan",)):
        return names(
            preprocessing.preprocessing_risks(
                preprocessing=summary,
                missing_features=list(missing),
                categorical_features=list(categorical),
            )
        )

    assert check({}, missing=(), categorical=()) == {}
    assert check({}) == {"preprocessing unknown": "low"}
    assert check({"Preprocess": False}) == {
        "no imputer for missing values": "high",
        "no encoder for categorical features": "high",
    }
    assert check({"Imputation type": None, "Maximum one-hot encoding": 25}) == {
        "no imputer for missing values": "high"
    }
    assert check({"Imputation type": "simple"}) == {"encoding unknown": "low"}
    assert check({"Encoding method": None}) == {"imputation unknown": "low"}


# Environment.


def test_version_skew():
    serving = {"pycaret": "3.3.2", "sklearn": "1.4.2", "pandas": "2.2.1"}
    trained = {"pycaret": "3.2.0", "sklearn": "1.4.1", "pandas": "2.1.4"}
    found = environment.version_skew_risks(trained=trained, serving=serving)
    assert names(found) == {
        "version skew: pycaret": "high",
        "version skew: sklearn": "low",
        "version skew: pandas": "medium",
    }
    assert found[0]["evidence"] == "trained with pycaret 3.2.0, serving with 3.3.2"
    assert environment.version_skew_risks(trained=serving, serving=serving) == []
    assert names(environment.version_skew_risks(trained={}, serving=serving)) == {
        "training environment unknown": "low"
    }


def test_serving_environment_is_this_process():
    import sklearn

    versions = environment.serving_environment()
    assert set(versions) == {"python", "pycaret", "sklearn", "pandas"}
    assert versions["sklearn"] == sklearn.__version__
    assert environment.version_key("3.3.2rc1") == ("3", "3", "2")


# Plans.


def test_model_ids_a_plan_names():
    plan = {"kind": "compare", "include": ["lr", "xgbost"], "exclude": ["dt"], "model_ids": [7]}
    assert plans.plan_model_ids(plan) == [
        ("include", "lr"),
        ("include", "xgbost"),
        ("exclude", "dt"),
    ]
    assert plans.unknown_model_ids("classification", plan) == [("include", "xgbost")]
    assert plans.unknown_model_ids("classification", {"model_id": "blend"}) == []
    assert plans.unknown_model_ids("regression", {"model_id": "lr"}) == []


def test_unknown_metrics():
    plan = {"sort": "acurracy", "optimize": "precision"}
    assert plans.unknown_metrics("classification", plan) == [("sort", "acurracy")]
    assert plans.unknown_metrics("regression", plan) == [
        ("sort", "acurracy"),
        ("optimize", "precision"),
    ]
    timed = {"sort": "TT (Sec)", "optimize": "TT"}
    assert plans.unknown_metrics("classification", timed) == []
    assert plans.unknown_metrics("classification", timed, allow_time=False) == [
        ("sort", "TT (Sec)"),
        ("optimize", "TT"),
    ]
