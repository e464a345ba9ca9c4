"""The rule book's target and task inference, and the column judgements it rests on (plain
profiles in, no database)."""

from __future__ import annotations

import pytest

from copilots.rules import columns, failures, targets


def num(name, unique, *, dtype="float64", lo=0.0, hi=1.0, missing=0, **extra):
    return {
        "name": name,
        "kind": "numeric",
        "dtype": dtype,
        "unique": unique,
        "min": lo,
        "max": hi,
        "missing": missing,
        **extra,
    }


def cat(name, unique, *, missing=0, top=None):
    column = {"name": name, "kind": "categorical", "dtype": "string", "unique": unique}
    column["missing"] = missing
    if top is not None:
        column["top"] = top
    return column


PENGUINS = [
    cat("species", 3),
    cat("island", 3),
    num("bill_length_mm", 164, missing=2),
    num("bill_depth_mm", 80, missing=2),
    num("flipper_length_mm", 55, dtype="int64", lo=172, hi=231, missing=2),
    num("body_mass_g", 94, dtype="int64", lo=2700, hi=6300, missing=2),
    cat("sex", 2, missing=11),
    num("year", 3, dtype="int64", lo=2007, hi=2009),
]


def test_penguins_target_is_species_not_year():
    ranked = targets.rank_targets(PENGUINS, 344, dataset_name="penguins.csv")
    assert ranked[0]["column"] == "species"
    assert ranked[0]["task"] == "classification"
    assert "its name is a usual target name" in ranked[0]["reasons"]
    assert "year" not in [c["column"] for c in ranked]
    assert {"column": "year", "reason": "it holds calendar years"} in (
        targets.disqualified_columns(PENGUINS, 344)
    )


@pytest.mark.parametrize(
    "profile, n_rows, expected",
    [
        # Smarket: Direction last, after a Year column and lagged returns.
        (
            [
                num("Year", 5, dtype="int64", lo=2001, hi=2005),
                *(num(f"Lag{i}", 1000) for i in range(1, 6)),
                num("Volume", 1250),
                num("Today", 1000),
                cat("Direction", 2),
            ],
            1250,
            "Direction",
        ),
        # Carseats: Sales first, a Price column, two Yes/No columns last.
        (
            [
                num("Sales", 336),
                num("CompPrice", 73, dtype="int64", lo=77, hi=175),
                num("Price", 101, dtype="int64", lo=24, hi=191),
                cat("ShelveLoc", 3),
                cat("Urban", 2),
                cat("US", 2),
            ],
            400,
            "Sales",
        ),
        # OJ: Purchase first, a row id.
        (
            [cat("Purchase", 2), num("WeekofPurchase", 52, dtype="int64", lo=227, hi=278)],
            1070,
            "Purchase",
        ),
        # Boston: medv last, after a binary chas.
        (
            [num("crim", 504), num("chas", 2, dtype="int64"), num("lstat", 455), num("medv", 229)],
            506,
            "medv",
        ),
        # An R export: rownames first, the target last.
        (
            [
                num("rownames", 150, dtype="int64", lo=1, hi=150),
                num("Sepal.Length", 35),
                cat("Species", 3),
            ],
            150,
            "Species",
        ),
        # statsmodels' stackloss: named after the dataset, first.
        (
            [num("STACKLOSS", 17), num("AIRFLOW", 9), num("WATERTEMP", 9), num("ACIDCONC", 15)],
            21,
            "STACKLOSS",
        ),
    ],
)
def test_top_target_on_teaching_datasets(profile, n_rows, expected):
    name = "stackloss.csv" if expected == "STACKLOSS" else "data.csv"
    assert targets.top_target(profile, n_rows, dataset_name=name)["column"] == expected


def test_disqualified_columns_say_why():
    profile = [
        num("id", 100, dtype="int64", lo=1, hi=100),
        {"name": "signup", "kind": "datetime", "dtype": "timestamp[ms]", "unique": 90},
        cat("country", 1),
        cat("order_date", 80),
        num("label", 2, dtype="int64"),
    ]
    reasons = {d["column"]: d["reason"] for d in targets.disqualified_columns(profile, 100)}
    assert reasons == {
        "id": "it is ID-like (a different value in every row)",
        "signup": "it is a date",
        "country": "it has one value (or none)",
        "order_date": "it is a date",
    }
    assert targets.top_target(profile, 100)["column"] == "label"
    assert targets.top_target([cat("x", 1)], 10) is None


@pytest.mark.parametrize(
    "column, task",
    [
        (cat("species", 300), "classification"),
        ({"kind": "boolean", "dtype": "bool", "unique": 2}, "classification"),
        (num("y", 2), "classification"),
        (num("y", 20, dtype="int64"), "classification"),
        (num("y", 21, dtype="int64"), "regression"),
        (num("y", 3), "regression"),
        ({}, "regression"),
    ],
)
def test_infer_task(column, task):
    assert targets.infer_task(column) == task


def test_year_date_and_near_constant_columns():
    assert columns.is_year_like(num("year", 3, dtype="int64", lo=2007, hi=2009))
    assert columns.is_year_like(num("season", 12, dtype="int64", lo=1990, hi=2001))
    assert columns.is_year_like(num("YEAR", 16, lo=1947.0, hi=1962.0))  # 1947.0 from a CSV
    assert not columns.is_year_like(num("year", 3, lo=2007.5, hi=2009.0))
    assert not columns.is_year_like(num("score", 3, lo=2007.0, hi=2009.0))  # floats, no name
    assert not columns.is_year_like(num("count", 300, dtype="int64", lo=1800, hi=2100))
    assert columns.is_date_like(cat("created_date", 50))
    assert not columns.is_date_like(cat("update", 50))
    top = [{"value": "active", "count": 995}, {"value": "closed", "count": 5}]
    assert columns.is_near_constant(cat("status", 2, top=top), 1000)
    assert not columns.is_near_constant(cat("status", 1, top=top[:1]), 1000)  # constant
    hist = {"edges": [-0.5, 0.5, 1.5], "counts": [996, 4]}
    assert columns.is_near_constant(num("flag", 2, dtype="int64", histogram=hist), 1000)


def test_id_feature_risk():
    found = columns.id_feature_risks(["rownames"])
    assert [(r["name"], r["severity"]) for r in found] == [
        ("ID-like feature in the model", "medium")
    ]
    assert "add it to ignore_features" in found[0]["evidence"]
    assert columns.id_feature_risks([]) == []


def test_task_mismatch_from_the_target_profile():
    continuous = num("price", 400)
    found = targets.task_mismatch(task="classification", target=continuous)
    assert found["task"] == "regression"
    assert "looks continuous (400 distinct numeric values)" in found["reason"]
    labels = targets.task_mismatch(task="regression", target=cat("species", 3))
    assert labels["task"] == "classification"
    assert targets.task_mismatch(task="classification", target=cat("species", 3)) is None
    assert targets.task_mismatch(task="clustering", target=continuous) is None


def test_classify_older_failures():
    assert failures.classify("ConfigError", "Target 'x' looks continuous")[0] == "CONFIG"
    assert failures.classify("DataError", "Only 8 rows have a target value")[0] == "DATA"
    assert failures.classify("WorkerLostError", "worker lost")[0] == "ENGINE"
