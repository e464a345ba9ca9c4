"""Building a forecasting series: the period index inferred from the dates, and the refusals."""

import numpy as np
import pandas as pd
import pytest

from engine.timeseries import SeriesProblem, build_series, check_length, monthly_demo_frame


def frame(dates, values=None) -> pd.DataFrame:
    values = np.arange(len(dates), dtype=float) if values is None else values
    return pd.DataFrame({"when": dates, "y": values})


@pytest.mark.parametrize(
    ("dates", "freq", "first"),
    [
        (["1949-01", "1949-02", "1949-03", "1949-04"], "M", "1949-01"),
        (pd.date_range("2000-01-01", periods=6, freq="MS").strftime("%Y-%m-%d"), "M", "2000-01"),
        (pd.date_range("2000-01-31", periods=6, freq="M").strftime("%Y-%m-%d"), "M", "2000-01"),
        (pd.date_range("2000-01-01", periods=6, freq="QS").strftime("%Y-%m-%d"), "Q-DEC", "2000Q1"),
        ([str(1990 + i) for i in range(6)], "A-DEC", "1990"),
        # 01/02/2000 reads month first, until 13/01/2000 says otherwise
        (pd.date_range("2000-01-01", periods=14, freq="D").strftime("%d/%m/%Y"), "D", "2000-01-01"),
        (pd.date_range("2000-01-02", periods=6, freq="W").strftime("%Y-%m-%d"), "W-SUN", None),
        (pd.date_range("2000-01-01", periods=6, freq="h"), "H", "2000-01-01 00:00"),
        (pd.date_range("2000-01-01", periods=6, freq="D", tz="Europe/Oslo"), "D", "1999-12-31"),
    ],
    ids=[
        "ym",
        "month-start",
        "month-end",
        "quarters",
        "years",
        "day-first",
        "weeks",
        "hours",
        "tz",
    ],
)
def test_the_frequency_is_inferred_from_the_dates(dates, freq, first):
    series = build_series(frame(list(dates)), date_column="when", target="y")
    assert series.index.freqstr == freq
    if first is not None:
        assert str(series.index[0]) == first
    assert series.tolist() == list(range(len(series)))
    assert series.name == "y"


def test_the_demo_series_equals_the_series_built_by_hand():
    data = monthly_demo_frame()
    series = build_series(data, date_column="month", target="passengers")
    by_hand = pd.Series(
        data["passengers"].to_numpy(float),
        index=pd.period_range("1949-01", periods=144, freq="M"),
        name="passengers",
    )
    pd.testing.assert_series_equal(series, by_hand)


@pytest.mark.parametrize(
    ("data", "code", "field", "message"),
    [
        (frame(["2000-01", None, "2000-03", "2000-04"]), "missing_date", "date_column", "row 2"),
        (
            frame(["2000-01", "2000-02", "2000-02", "2000-03"]),
            "duplicate_dates",
            "date_column",
            "2000-02-01 (2 rows)",
        ),
        (
            frame(["2000-01", "2000-02", "2000-05", "2000-06"]),
            "irregular_dates",
            "date_column",
            "between 2000-02-01 and 2000-05-01",
        ),
        (frame(["2000-01", "2000-02"]), "too_few_points", "date_column", "at least 3"),
        (frame([1, 2, 3, 4]), "not_dates", "date_column", "holds numbers"),
        (frame(["a", "b", "c", "d"]), "unparseable_date", "date_column", "'a' (row 1)"),
        (
            frame(["2000-01", "2000-02", "2000-03"], ["1", "2", "3"]),
            "target_not_numeric",
            "target",
            "numbers stored as text",
        ),
        (
            frame(["2000-01", "2000-02", "2000-03"], [1.0, np.nan, 3.0]),
            "missing_values",
            "target",
            "at 2000-02",
        ),
    ],
)
def test_a_bad_series_is_refused_naming_the_problem(data, code, field, message):
    with pytest.raises(SeriesProblem) as info:
        build_series(data, date_column="when", target="y")
    assert (info.value.code, info.value.field, info.value.category) == (code, field, "DATA")
    assert message in info.value.message


def test_the_dates_and_the_values_must_be_two_columns():
    with pytest.raises(SeriesProblem) as info:
        build_series(frame(["2000-01", "2000-02", "2000-03"]), date_column="y", target="y")
    assert info.value.category == "CONFIG"


def test_the_length_covers_the_holdout_the_folds_and_a_first_window():
    check_length(39, fh=12, fold=2)
    with pytest.raises(SeriesProblem) as info:
        check_length(38, fh=12, fold=2)
    assert "needs at least 39" in info.value.message and info.value.field == "fh"
