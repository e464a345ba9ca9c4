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


def test_top_classes_are_largest_first_and_capped():
    counts = {"a": 1, "b": 5, "c": 5, "d": 3}
    assert list(columns.top_classes(counts)) == ["b", "c", "d", "a"]
    assert columns.top_classes(counts, limit=2) == {"b": 5, "c": 5}


# Imbalance.


def test_minority_share():
    assert imbalance.minority_share({}) is None
    assert imbalance.minority_share({"no": 90, "yes": 10}) == 0.1


def _counts(*shares: float, n: int = 1000) -> dict[str, int]:
    return {f"c{i}": round(share * n) for i, share in enumerate(shares)}


@pytest.mark.parametrize(
    "shares, severity",
    [
        ((0.5, 0.5), None),
        ((0.8, 0.2), None),  # binary: imbalanced below 20% (0.4 of the fair share of 50%)
        ((0.81, 0.19), "medium"),
        ((0.95, 0.05), "medium"),
        ((0.97, 0.03), "high"),  # 0.06 of its fair share
        ((0.44, 0.36, 0.20), None),  # three classes: 0.6 of the fair share of 33%
        ((0.5, 0.38, 0.12), "medium"),  # 0.36 of the fair share
        ((0.6, 0.37, 0.03), "high"),  # 0.09 of the fair share
        ((0.1,) * 9 + (0.05,), None),  # ten classes: 0.5 of the fair share of 10%
        ((0.11,) * 9 + (0.005,), "high"),
    ],
)
def test_imbalance_is_relative_to_the_number_of_classes(shares, severity):
    counts = _counts(*shares)
    assert imbalance.imbalance_severity(counts) == severity
    assert imbalance.is_imbalanced(counts) is (severity is not None)


def test_imbalance_wording_names_the_fair_share():
    assert imbalance.describe(_counts(0.97, 0.03)) == (
        "the smallest class is 3.0% of the rows, 0.06 of its fair share of 50.0% (2 classes)"
    )
    found = imbalance.imbalance_risks(target="fraud", counts=_counts(0.97, 0.03))
    assert names(found) == {"class imbalance": "high"}
    assert imbalance.imbalance_risks(target="species", counts=_counts(0.44, 0.36, 0.2)) == []


def test_ranking_an_imbalanced_target_by_accuracy_is_a_medium_risk():
    counts = _counts(0.9, 0.1)
    found = imbalance.sort_metric_risks(task="classification", metric="Accuracy", counts=counts)
    assert names(found) == {"sort metric does not fit an imbalanced target": "medium"}
    assert "the smallest class is 10.0% of the rows" in found[0]["evidence"]
    assert not imbalance.sort_metric_risks(task="classification", metric="F1", counts=counts)
    balanced = _counts(0.44, 0.36, 0.2)
    assert not imbalance.sort_metric_risks(
        task="classification", metric="Accuracy", counts=balanced
    )
    assert not imbalance.sort_metric_risks(task="regression", metric="Accuracy", counts=counts)


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


def test_a_perfect_cv_score_alone_is_a_medium_risk():
    found = fitness.overfit_risks(
        task="classification",
        metric="F1",
        best={"F1": 0.8, "Accuracy": 0.9995},
        holdout={"Accuracy": 0.99},
    )
    assert names(found) == {"overfit: perfect cross-validation score": "medium"}
    assert found[0]["evidence"] == (
        "CV Accuracy = 0.9995 (≥ 0.999); holdout Accuracy 0.99 agrees, so the target may "
        "simply be easy: check for leakage"
    )
    assert not fitness.overfit_risks(
        task="regression", metric="MAE", best={"MAE": 0.0, "R2": 0.99}, holdout={}
    )


def test_a_perfect_cv_score_is_high_with_supporting_evidence():
    leak = fitness.overfit_risks(
        task="classification",
        metric="Accuracy",
        best={"Accuracy": 1.0},
        holdout={"Accuracy": 1.0},
        leakage_suspects=["refund"],
    )
    assert names(leak) == {"overfit: perfect cross-validation score": "high"}
    assert "leakage suspect(s) among the features: refund" in leak[0]["evidence"]
    gap = fitness.overfit_risks(
        task="classification", metric="Accuracy", best={"Accuracy": 1.0}, holdout={"Accuracy": 0.9}
    )
    assert names(gap) == {
        "overfit: perfect cross-validation score": "high",
        "overfit: holdout far below cross-validation": "high",
    }


def test_an_auc_pycaret_could_not_compute_is_no_score():
    # PyCaret records 0.0 for a multiclass AUC its scorer failed on: not a perfect, nor a bad,
    # score, so neither the perfect-CV nor the holdout-gap rule reads it.
    best, holdout = {"AUC": 0.0, "Accuracy": 0.95}, {"AUC": 0.99, "Accuracy": 0.94}
    assert (
        fitness.overfit_risks(task="classification", metric="AUC", best=best, holdout=holdout) == []
    )
    assert fitness.margin_risks(metric="AUC", best=best, runner_up={"AUC": 0.0}) == []


def test_ceiling_and_tune_judgement():
    assert fitness.at_ceiling("F1", 1.0) and fitness.at_ceiling("MAE", 0.0)
    assert not fitness.at_ceiling("F1", 0.98) and not fitness.at_ceiling("F1", None)
    worse = fitness.tune_judgement(
        {"kept_original": True, "metric": "F1", "original_cv": 0.9831, "tuned_cv": 0.9745}
    )
    assert worse == {
        "kept_original": True,
        "worse": True,
        "metric": "F1",
        "original": 0.9831,
        "tuned": 0.9745,
    }
    better = fitness.tune_judgement(
        {"kept_original": False, "metric": "MAE", "original_cv": 3.0, "tuned_cv": 2.5}
    )
    assert better["worse"] is False and better["kept_original"] is False
    assert fitness.tune_judgement(None) is None


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
