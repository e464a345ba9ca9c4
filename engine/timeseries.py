"""The series a forecasting experiment learns from: a dataset's value column indexed by its date
column, with a regular PeriodIndex inferred from the dates, and a clear refusal otherwise.

The experiment service uses it to answer 422 when the experiment is created, and the runner to
build exactly the series PyCaret gets (failing with DATA or CONFIG). Plain pandas: no Django,
no PyCaret.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from engine.numbers import plural

# The first cross-validation fold trains on at least this many points.
MIN_WINDOW = 3
SHOWN = 3
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
# Frequencies anchored at the start of a period, and the period each stands for.
_START_FREQUENCIES = {"MS": "M", "BMS": "M", "QS": "Q", "BQS": "Q", "AS": "A", "YS": "A"}


class SeriesProblem(ValueError):
    """The data or options cannot make a regular series. ``field`` is the option at fault,
    ``code`` a machine code, ``category`` the run failure category (DATA or CONFIG)."""

    def __init__(self, message: str, *, code: str, field: str, category: str = "DATA") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field
        self.category = category


def _shown(values: list[str]) -> str:
    more = f" and {len(values) - SHOWN} more" if len(values) > SHOWN else ""
    return ", ".join(values[:SHOWN]) + more


def _stamp(value: Any) -> str:
    stamp = pd.Timestamp(value)
    return stamp.strftime("%Y-%m-%d") if stamp == stamp.normalize() else str(stamp)


def parse_dates(values: pd.Series, column: str) -> pd.Series:
    """``values`` as datetime64 (timezone-naive), or SeriesProblem naming what does not parse."""
    missing = values.isna()
    if missing.any():
        rows = [str(i + 1) for i in np.flatnonzero(missing.to_numpy())]
        raise SeriesProblem(
            f"Date column '{column}' is empty in {len(rows)} row(s) (row {_shown(rows)}); "
            "every point of a series needs a date.",
            code="missing_date",
            field="date_column",
        )
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        if getattr(values.dt, "tz", None) is not None:
            return values.dt.tz_convert(None)
        return values
    if pd.api.types.is_bool_dtype(values.dtype) or pd.api.types.is_numeric_dtype(values.dtype):
        raise SeriesProblem(
            f"Column '{column}' holds numbers ({values.dtype}), not dates; choose a column of "
            "dates such as 1949-01 or 2024-03-31.",
            code="not_dates",
            field="date_column",
        )
    text = values.astype(str).str.strip()
    with warnings.catch_warnings():
        # with no one format for every value, pandas reads them one by one: that is the intent
        warnings.filterwarnings("ignore", "Could not infer format", UserWarning)
        parsed = pd.to_datetime(text, errors="coerce")
        if parsed.isna().any():
            # 13/01/2024 does not parse month-first; try the day-first reading before refusing
            day_first = pd.to_datetime(text, errors="coerce", dayfirst=True)
            if day_first.isna().sum() < parsed.isna().sum():
                parsed = day_first
    bad = parsed.isna().to_numpy()
    if bad.any():
        examples = [f"'{text.iloc[i]}' (row {i + 1})" for i in np.flatnonzero(bad)]
        raise SeriesProblem(
            f"Date column '{column}' has {len(examples)} value(s) that do not parse as dates: "
            f"{_shown(examples)}.",
            code="unparseable_date",
            field="date_column",
        )
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert(None)
    return parsed


def _period_frequency(freq: str) -> str:
    """The period frequency of a datetime frequency: MS → M, QS-JAN → Q-DEC, YS-JAN → A-DEC."""
    base, _, anchor = freq.partition("-")
    period = _START_FREQUENCIES.get(base)
    if period is None:
        return freq
    if anchor not in _MONTHS or period == "M":
        return period
    end = _MONTHS[(_MONTHS.index(anchor) - 1) % 12]
    if period == "Q" and end in ("MAR", "JUN", "SEP", "DEC"):
        end = "DEC"  # calendar quarters, whichever quarter pandas anchors them on
    return f"{period}-{end}"


def _gap_hint(index: pd.DatetimeIndex) -> str:
    steps = np.diff(index.asi8)
    typical = float(np.median(steps))
    jumps = np.flatnonzero(steps > 1.5 * typical)
    if len(jumps) == 0:
        return ""
    i = int(jumps[0])
    return f" (for example nothing between {_stamp(index[i])} and {_stamp(index[i + 1])})"


def regular_index(dates: pd.Series, column: str) -> pd.PeriodIndex:
    """A regular PeriodIndex for sorted, distinct ``dates``; SeriesProblem for gaps."""
    index = pd.DatetimeIndex(dates)
    if len(index) < 3:
        raise SeriesProblem(
            f"Date column '{column}' has {len(index)} dates; at least 3 are needed to infer "
            "how often the series is measured.",
            code="too_few_points",
            field="date_column",
        )
    freq = pd.infer_freq(index)
    periods = None
    if freq is not None:
        try:
            periods = index.to_period(_period_frequency(freq))
        except (ValueError, AttributeError, TypeError):
            periods = None
    regular = periods is not None and periods.equals(
        pd.period_range(start=periods[0], periods=len(periods), freq=periods.freq)
    )
    if not regular:
        raise SeriesProblem(
            f"The dates in '{column}' are not evenly spaced{_gap_hint(index)}, so no frequency "
            "(daily, monthly, ...) can be inferred. Add the missing dates, or aggregate the "
            "series to a regular frequency.",
            code="irregular_dates",
            field="date_column",
        )
    return periods


def _values(values: pd.Series, target: str, order: np.ndarray, index: pd.PeriodIndex):
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype):
        present = values.dropna()
        example = f", e.g. '{present.iloc[0]}'" if len(present) else ""
        stored_as_text = len(present) and pd.to_numeric(present, errors="coerce").notna().all()
        hint = " (numbers stored as text: convert the column)" if stored_as_text else ""
        raise SeriesProblem(
            f"Target column '{target}' is not numeric ({dtype}{example}){hint}; forecasting "
            "needs a numeric series.",
            code="target_not_numeric",
            field="target",
        )
    ordered = values.to_numpy(dtype="float64")[order]
    missing = np.flatnonzero(np.isnan(ordered))
    if len(missing):
        when = [str(index[i]) for i in missing]
        raise SeriesProblem(
            f"The series '{target}' has {len(when)} missing value(s) (at {_shown(when)}); "
            "fill them in before forecasting.",
            code="missing_values",
            field="target",
        )
    return ordered


def build_series(frame: pd.DataFrame, *, date_column: str, target: str) -> pd.Series:
    """``target``'s values as floats, ordered by ``date_column``, on a regular PeriodIndex."""
    for option, column in (("date_column", date_column), ("target", target)):
        if column not in frame.columns:
            raise SeriesProblem(
                f"Column '{column}' ({option}) is not in the dataset.",
                code="unknown_column",
                field=option,
            )
    if date_column == target:
        raise SeriesProblem(
            f"date_column and target are both '{target}'; the dates and the values must be "
            "two different columns.",
            code="invalid",
            field="date_column",
            category="CONFIG",
        )
    dates = parse_dates(frame[date_column].reset_index(drop=True), date_column)
    order = np.argsort(dates.to_numpy(), kind="stable")
    ordered = dates.iloc[order].reset_index(drop=True)
    repeated = ordered[ordered.duplicated(keep=False)]
    if len(repeated):
        counts = repeated.value_counts(sort=False)
        shown = [f"{_stamp(when)} ({plural(n, 'row')})" for when, n in counts.items()]
        raise SeriesProblem(
            f"Dates repeat in '{date_column}': {_shown(shown)}. Each date must appear once; "
            "aggregate the rows of a date first.",
            code="duplicate_dates",
            field="date_column",
        )
    index = regular_index(ordered, date_column)
    values = _values(frame[target].reset_index(drop=True), target, order, index)
    # exactly what a series built by hand is: no index name to tell them apart
    return pd.Series(values, index=index.rename(None), name=target)


def check_length(n_points: int, *, fh: int, fold: int) -> None:
    """PyCaret holds out the last ``fh`` points and cross-validates ``fold`` windows of ``fh``
    points before them; the first window must still have MIN_WINDOW points to train on."""
    needed = fh * (fold + 1) + MIN_WINDOW
    if n_points < needed:
        raise SeriesProblem(
            f"The series has {n_points} points; fh={fh} with fold={fold} needs at least "
            f"{needed} ({fh} held out, {fold} folds of {fh} and {MIN_WINDOW} to train the "
            "first fold on). Lower fh or fold, or use a longer series.",
            code="too_few_points",
            field="fh",
        )


def monthly_demo_frame(n: int = 144, seed: int = 0) -> pd.DataFrame:
    """A generated monthly series from 1949-01 (trend, a yearly season and noise): the demo's,
    the model registry's and the tests' series."""
    rng = np.random.default_rng(seed)
    steps = np.arange(n)
    values = np.linspace(100, 400, n) + 30 * np.sin(2 * np.pi * steps / 12) + rng.normal(0, 8, n)
    months = pd.period_range("1949-01", periods=n, freq="M").astype(str)
    return pd.DataFrame({"month": months, "passengers": values.round(2)})
