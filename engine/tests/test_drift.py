"""Drift: the per-feature tests, dataset drift and the not-enough-data answer (pure, no Django)."""

import numpy as np
import pandas as pd
import pytest

from engine import drift

FEATURES = [
    {"name": "a", "kind": "numeric"},
    {"name": "b", "kind": "numeric"},
    {"name": "c", "kind": "numeric"},
    {"name": "colour", "kind": "categorical"},
]


def frame(n: int, seed: int, *, shift_a=0.0, shift_b=0.0, colours=(0.5, 0.3, 0.2)) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "a": rng.normal(10 + shift_a, 2, n),
            "b": rng.exponential(3, n) + shift_b,
            "c": rng.uniform(0, 1, n),
            "colour": rng.choice(["red", "green", "blue"], n, p=list(colours)),
        }
    )


def by_name(report) -> dict:
    return {f["name"]: f for f in report["features"]}


def test_shifted_features_and_the_dataset_drift_on_a_small_reference():
    reference = frame(800, seed=1)
    current = frame(200, seed=2, shift_a=3.0, shift_b=4.0, colours=(0.1, 0.2, 0.7))
    report = drift.drift_report(reference=reference, current=current, features=FEATURES)
    features = by_name(report)
    assert report["status"] == "ok"
    assert {f["name"] for f in report["features"] if f["drifted"]} == {"a", "b", "colour"}
    assert features["a"]["test"] == "ks" and features["a"]["p_value"] < 0.05
    assert features["colour"]["test"] == "chi_square"
    assert not features["c"]["drifted"]
    assert report["drift_share"] == 0.75
    assert report["dataset_drift"] is True
    assert (report["reference_rows"], report["current_rows"]) == (800, 200)


def test_data_from_the_training_distribution_flags_nothing():
    report = drift.drift_report(
        reference=frame(800, seed=1), current=frame(300, seed=5), features=FEATURES
    )
    assert [f["name"] for f in report["features"] if f["drifted"]] == []
    assert report["dataset_drift"] is False
    assert report["drift_share"] == 0.0


def test_a_large_reference_uses_distances():
    reference = frame(5000, seed=1)
    same = drift.drift_report(reference=reference, current=frame(400, seed=9), features=FEATURES)
    shifted = drift.drift_report(
        reference=reference,
        current=frame(400, seed=9, shift_a=2.0, colours=(0.1, 0.1, 0.8)),
        features=FEATURES,
    )
    assert by_name(same)["a"]["test"] == "wasserstein"
    assert by_name(same)["colour"]["test"] == "jensen_shannon"
    assert by_name(same)["a"]["p_value"] is None
    assert not any(f["drifted"] for f in same["features"])
    a, colour = by_name(shifted)["a"], by_name(shifted)["colour"]
    assert a["drifted"] and a["statistic"] == pytest.approx(1.0, abs=0.15)  # 2.0 / std 2
    assert colour["drifted"] and colour["statistic"] > drift.DISTANCE_THRESHOLD
    assert shifted["dataset_drift"] is True  # 2 of 4


def test_fewer_than_30_current_rows_is_not_enough_data():
    report = drift.drift_report(reference=frame(500, 1), current=frame(29, 2), features=FEATURES)
    assert report == {
        "status": "not_enough_data",
        "detail": "Not enough data yet: 29 of 30 rows",
        "reference_rows": 500,
        "current_rows": 29,
        "drift_share": None,
        "dataset_drift": None,
        "features": [],
        "prediction_drift": None,
    }


def test_prediction_drift_compares_predictions_with_the_training_target():
    rng = np.random.default_rng(4)
    target = pd.Series(rng.choice([0, 1], 600, p=[0.4, 0.6]))
    similar = pd.Series(rng.choice([0, 1], 200, p=[0.4, 0.6]))
    skewed = pd.Series(rng.choice([0, 1], 200, p=[0.9, 0.1]))
    kwargs = {"reference": frame(600, 1), "current": frame(200, 1), "features": FEATURES}
    stable = drift.drift_report(
        **kwargs, reference_predictions=target, current_predictions=similar
    )["prediction_drift"]
    moved = drift.drift_report(**kwargs, reference_predictions=target, current_predictions=skewed)[
        "prediction_drift"
    ]
    assert stable["test"] == "chi_square" and not stable["drifted"]
    assert moved["drifted"] and moved["p_value"] < 0.05
    assert sorted(moved["histogram"]["categories"]) == ["0", "1"]


def test_histograms_share_bins_and_sum_to_one():
    report = drift.drift_report(
        reference=frame(300, 1), current=frame(100, 2, shift_a=5), features=FEATURES
    )
    histogram = by_name(report)["a"]["histogram"]
    assert len(histogram["edges"]) == drift.HISTOGRAM_BINS + 1
    assert sum(histogram["reference"]) == pytest.approx(1, abs=0.01)
    assert sum(histogram["current"]) == pytest.approx(1, abs=0.01)
    colours = by_name(report)["colour"]["histogram"]
    assert sorted(colours["categories"]) == ["blue", "green", "red"]


def test_a_feature_without_current_values_is_not_tested():
    current = frame(50, 2).assign(c=np.nan)
    report = drift.drift_report(reference=frame(300, 1), current=current, features=FEATURES)
    c = by_name(report)["c"]
    assert (c["test"], c["drifted"], c["statistic"]) == ("none", False, None)
    assert "of 3 features" in report["detail"]


def test_integers_and_floats_are_the_same_category():
    reference = pd.DataFrame({"k": [1, 2] * 100})
    current = pd.DataFrame({"k": [1.0, 2.0] * 20})
    report = drift.drift_report(
        reference=reference, current=current, features=[{"name": "k", "kind": "categorical"}]
    )
    assert report["features"][0]["statistic"] == 0.0
    assert not report["features"][0]["drifted"]
