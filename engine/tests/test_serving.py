"""Serving: verified loading and the cache, row checks, and predictions equal to predict_model.

The trained pipelines come from engine/tests/factories.py (each kind trained once per session).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine import serving, storage
from engine.tests.factories import (
    KINDS,
    as_records,
    assert_equal_to_predict_model,
    sample_rows,
    trained,
)

pytestmark = pytest.mark.filterwarnings("ignore")

REPO_ROOT = Path(__file__).resolve().parents[2]


# Predictions.


@pytest.fixture(autouse=True)
def _empty_cache():
    serving.cache_clear()
    yield
    serving.cache_clear()


def load(kind: str) -> serving.LoadedPipeline:
    """The trained pipeline of `kind`, stored and loaded as a deployment's is."""
    result, work_dir, _ = trained(kind)
    name = storage.save_file(f"runs/0/{kind}.pkl", work_dir / result.artifact_filename)
    return serving.load_pipeline(name=name, sha256=result.artifact_sha256)


@pytest.mark.parametrize("kind", ["classifier", "labels", "regressor"])
def test_predictions_equal_pycarets_predict_model(kind):
    result, _, _ = trained(kind)
    rows = sample_rows(kind)
    prepared = serving.prepare_rows(as_records(rows), result.feature_schema, max_rows=1000)
    predictions = serving.predict(load(kind), prepared.frame, task=KINDS[kind][1])
    assert_equal_to_predict_model(kind, rows, predictions)


def test_classification_gives_the_label_and_its_probability():
    result, _, _ = trained("labels")
    rows = sample_rows("labels", n=20)
    prepared = serving.prepare_rows(as_records(rows), result.feature_schema, max_rows=100)
    loaded = load("labels")
    predictions = serving.predict(loaded, prepared.frame, task="classification")
    assert {p["label"] for p in predictions} <= {"yes", "no"}
    proba = loaded.estimator.predict_proba(loaded.transform(prepared.frame))
    for prediction, row in zip(predictions, proba, strict=True):
        assert prediction["score"] == pytest.approx(row.max())
        assert 0.5 <= prediction["score"] <= 1


def test_one_row_with_a_missing_value_is_imputed_like_predict_model():
    rows = sample_rows("labels", n=1, seed=11).assign(size=np.nan)
    result, _, _ = trained("labels")
    prepared = serving.prepare_rows(as_records(rows), result.feature_schema, max_rows=10)
    predictions = serving.predict(load("labels"), prepared.frame, task="classification")
    assert_equal_to_predict_model("labels", rows, predictions)


def test_dtype_shrinking_matches_pycarets():
    from pycaret.utils.generic import df_shrink_dtypes

    frame = pd.DataFrame(
        {
            "small_int": np.array([1, -5, 100], dtype="int64"),
            "mid_int": np.array([1, 70_000, -3], dtype="int64"),
            "big_int": np.array([1, 2**40, 0], dtype="int64"),
            "float": [0.1, np.nan, 3.5],
            "all_missing": [np.nan, np.nan, np.nan],
            "huge_float": [1e300, 0.0, 1.0],
            "text": ["a", None, "b"],
            "flag": [True, False, True],
            "when": pd.to_datetime(["2024-01-01", "2024-02-01", None]),
        }
    )
    expected = df_shrink_dtypes(frame)
    shrunk = serving.shrink_dtypes(frame)
    assert shrunk.dtypes.to_dict() == expected.dtypes.to_dict()
    pd.testing.assert_frame_equal(shrunk, expected)
    odd = frame.assign(small_int=frame["small_int"].astype("uint16"))
    assert serving.shrink_dtypes(odd).dtypes.to_dict() == df_shrink_dtypes(odd).dtypes.to_dict()


# Loading: verified bytes, a cache keyed by sha256.


def test_a_tampered_artifact_is_refused_and_never_cached():
    result, work_dir, _ = trained("classifier")
    copy = "runs/0/pipeline.pkl"
    original = (work_dir / result.artifact_filename).read_bytes()
    storage.save_bytes(copy, original[:-1] + bytes([original[-1] ^ 0xFF]))
    with pytest.raises(serving.ArtifactMismatch) as caught:
        serving.load_pipeline(name=copy, sha256=result.artifact_sha256)
    assert caught.value.expected == result.artifact_sha256
    assert caught.value.actual != result.artifact_sha256
    assert "does not match the sha256" in caught.value.message
    assert result.artifact_sha256 not in serving.cached_sha256s()

    storage.save_bytes(copy, original)
    loaded = serving.load_pipeline(name=copy, sha256=result.artifact_sha256)
    assert serving.cached_sha256s() == [result.artifact_sha256]
    assert serving.load_pipeline(name=copy, sha256=result.artifact_sha256) is loaded


@pytest.mark.parametrize("name", ["runs/0/nope.pkl", "", "../outside.pkl", "/etc/passwd"])
def test_a_missing_artifact_is_a_clear_error(name):
    with pytest.raises(serving.ArtifactMissing, match="missing"):
        serving.load_pipeline(name=name, sha256="0" * 64)


def test_the_cache_evicts_the_least_recently_used(monkeypatch):
    monkeypatch.setattr(serving.loading, "CACHE_SIZE", 2)
    a, b = load("classifier"), load("labels")
    assert serving.cached_sha256s() == [a.sha256, b.sha256]
    assert load("classifier") is a  # a hit: no reload, and A is now the most recently used
    c = load("regressor")
    # B, used least recently, made room for C; oldest-first insertion order would evict A.
    assert serving.cached_sha256s() == [a.sha256, c.sha256]
    assert load("classifier") is a
    assert load("labels") is not b  # B was evicted: it loads afresh


# Row checks.

SCHEMA = [
    {"name": "age", "dtype": "int64", "kind": "numeric"},
    {"name": "income", "dtype": "float64", "kind": "numeric"},
    {"name": "city", "dtype": "object", "kind": "categorical"},
    {"name": "member", "dtype": "bool", "kind": "boolean"},
]


def prepare(rows, **kw):
    return serving.prepare_rows(rows, SCHEMA, max_rows=kw.pop("max_rows", 100), **kw)


def test_rows_are_converted_to_the_training_types():
    prepared = prepare(
        [
            {"age": 40, "income": "1234.5", "city": "Paris", "member": "yes"},
            {"age": "41", "income": None, "city": 7, "member": False},
        ]
    )
    frame = prepared.frame
    assert list(frame.columns) == ["age", "income", "city", "member"]
    assert frame["age"].dtype == "int64"
    assert frame["income"].tolist()[0] == 1234.5 and np.isnan(frame["income"].tolist()[1])
    assert frame["city"].tolist() == ["Paris", "7"]
    assert frame["member"].tolist() == [True, False]
    assert prepared.ignored_columns == []
    assert prepared.records([1]) == [{"age": 41.0, "income": None, "city": "7", "member": False}]


def test_missing_columns_are_named():
    with pytest.raises(serving.InputError) as caught:
        prepare([{"age": 1, "city": "x"}, {"age": 2, "income": 3, "city": "y"}])
    assert caught.value.status == 422
    assert "Missing columns: income (in 1 of 2 rows), member" in caught.value.message
    assert caught.value.extra["missing_columns"] == ["income", "member"]


def test_values_that_cannot_be_converted_name_the_column_and_row():
    rows = [
        {"age": 1, "income": 2, "city": "a", "member": True},
        {"age": "old", "income": 2, "city": "a", "member": "maybe"},
    ]
    with pytest.raises(serving.InputError) as caught:
        prepare(rows)
    message = caught.value.message
    assert "rows[1], column 'age': 'old' is not a number" in message
    assert "rows[1], column 'member': 'maybe' is not true or false" in message
    assert caught.value.extra["errors"][0] == {
        "row": 1,
        "column": "age",
        "message": "'old' is not a number",
    }


@pytest.mark.parametrize("bad", [True, "inf", [1], {"a": 1}])
def test_a_number_column_refuses_non_numbers(bad):
    with pytest.raises(serving.InputError, match="column 'income'"):
        prepare([{"age": 1, "income": bad, "city": "a", "member": True}])


NUMBERS = [{"name": "a", "kind": "numeric", "dtype": "float64"}, {"name": "b", "dtype": "float32"}]


def test_all_number_columns_give_one_float_block_equal_to_the_cell_by_cell_conversion():
    rows = [{"a": 1, "b": 2.5}, {"a": 2**53 + 1, "b": -0.0}, {"a": 3.25, "b": 10**20}]
    prepared = serving.prepare_rows(rows, NUMBERS, max_rows=10)
    frame = prepared.frame
    assert list(frame.columns) == ["a", "b"]
    assert list(frame.dtypes) == [np.float64, np.float64]
    assert frame["a"].tolist() == [1.0, float(2**53 + 1), 3.25]
    assert frame["b"].tolist() == [2.5, -0.0, 1e20]
    assert prepared.records([0, 1]) == [{"a": 1.0, "b": 2.5}, {"a": float(2**53 + 1), "b": -0.0}]
    assert all(type(v) is float for record in prepared.records([0, 1, 2]) for v in record.values())


@pytest.mark.parametrize(
    ("cell", "expected"),
    [(None, None), (float("nan"), None), (" 4.5 ", 4.5), ("", None)],
)
def test_number_columns_with_missing_or_text_values_convert_cell_by_cell(cell, expected):
    prepared = serving.prepare_rows([{"a": 1, "b": cell}], NUMBERS, max_rows=10)
    assert prepared.records([0]) == [{"a": 1.0, "b": expected}]
    value = prepared.frame["b"].tolist()[0]
    assert np.isnan(value) if expected is None else value == expected


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (10**400, "is too large for a number"),
        (float("inf"), "is not a finite number"),
        (True, "is not a number"),
    ],
)
def test_number_columns_name_unconvertible_numbers(bad, message):
    with pytest.raises(serving.InputError) as caught:
        serving.prepare_rows([{"a": 1, "b": 2}, {"a": 1, "b": bad}], NUMBERS, max_rows=10)
    assert "rows[1], column 'b': " in caught.value.message
    assert message in caught.value.message


def test_extra_columns_are_ignored_and_reported():
    prepared = prepare([{"age": 1, "income": 2, "city": "a", "member": True, "zz": 1, "id": 9}])
    assert prepared.ignored_columns == ["id", "zz"]
    assert "zz" not in prepared.frame.columns


def test_too_many_rows_and_no_rows():
    row = {"age": 1, "income": 2, "city": "a", "member": True}
    with pytest.raises(serving.TooManyRows) as caught:
        prepare([row] * 3, max_rows=2)
    assert caught.value.status == 413
    assert "3 rows is more than the limit of 2" in caught.value.message
    with pytest.raises(serving.InputError, match="empty"):
        prepare([])
    with pytest.raises(serving.InputError, match="must be an object"):
        prepare([row, 5])


# Web start-up.


def test_web_start_up_does_not_import_pycaret():
    code = (
        "import django, sys; django.setup(); import pycaret_studio.urls; "
        "import pycaret_studio.wsgi; "
        "assert 'pycaret' not in sys.modules, 'pycaret imported at start-up'; "
        "assert 'engine.serving' in sys.modules"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "pycaret_studio.settings"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
