"""Cheap checks on the data, target and options before PyCaret's setup, with clear messages."""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from engine.numbers import plural
from engine.plans import SetupOptions
from engine.runner.errors import ConfigError, DataError
from engine.runner.processes import run_n_jobs

MIN_ROWS = 10
# A float target with more distinct decimal values than this is a regression target.
CONTINUOUS_CLASS_LIMIT = 20
_SAMPLE = 1000


@dataclass
class CheckedInput:
    data: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    dropped_missing_target: int = 0


def _names(values: Any, limit: int = 20) -> str:
    values = [str(v) for v in values]
    shown = ", ".join(values[:limit])
    return shown + (f", … ({len(values) - limit} more)" if len(values) > limit else "")


def _label(value: Any) -> str:
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value) if isinstance(value, str) else str(value)


def _check_columns(data: pd.DataFrame, target: str | None, options: SetupOptions) -> None:
    duplicated = data.columns[data.columns.duplicated()].unique().tolist()
    if duplicated:
        raise DataError(f"Duplicate column names in the dataset: {_names(duplicated)}")
    if target is not None and target not in data.columns:
        close = difflib.get_close_matches(str(target), [str(c) for c in data.columns], n=3)
        hint = f" Did you mean {_names(close)}?" if close else ""
        raise DataError(
            f"Target column {target!r} not found in the dataset.{hint} "
            f"Columns: {_names(data.columns)}"
        )
    missing = {
        option: [c for c in columns if c not in data.columns]
        for option, columns in options.referenced_columns().items()
    }
    missing = {option: columns for option, columns in missing.items() if columns}
    if missing:
        detail = "; ".join(f"{option}: {_names(cols)}" for option, cols in missing.items())
        raise DataError(f"Setup options name columns that are not in the dataset ({detail})")
    for option, columns in options.referenced_columns().items():
        if target in columns:
            raise ConfigError(f"The target column {target!r} cannot be listed in {option}")


def _check_feature_values(data: pd.DataFrame, features: list[str]) -> None:
    for column in features:
        series = data[column]
        dtype = series.dtype
        if pd.api.types.is_complex_dtype(dtype):
            raise DataError(f"Column {column!r} holds complex numbers, which are not supported")
        if pd.api.types.is_timedelta64_dtype(dtype):
            raise DataError(
                f"Column {column!r} holds durations (timedelta); convert it to a number first"
            )
        if pd.api.types.is_object_dtype(dtype):
            sample = series.dropna().head(_SAMPLE)
            odd = sample[sample.map(lambda v: isinstance(v, list | dict | set | tuple | bytes))]
            if len(odd):
                kind = type(odd.iloc[0]).__name__
                raise DataError(
                    f"Column {column!r} holds {kind} values; every cell must be a single "
                    "number, text or date"
                )


def _split_sizes(n_rows: int, train_size: float) -> tuple[int, int]:
    n_test = math.ceil((1 - train_size) * n_rows)
    return n_rows - n_test, n_test


def _check_classification(
    y: pd.Series, target: str, options: SetupOptions, fold: int, n_rows: int
) -> None:
    counts = y.value_counts()
    if len(counts) < 2:
        raise DataError(
            f"Target column {target!r} has only one class ({_label(counts.index[0])}); "
            "classification needs at least 2"
        )
    if pd.api.types.is_float_dtype(y.dtype):
        decimals = (y % 1 != 0).any()
        if decimals and len(counts) > CONTINUOUS_CLASS_LIMIT:
            raise ConfigError(
                f"Target column {target!r} looks continuous ({len(counts)} distinct decimal "
                "values); use a regression experiment, or bin the target into classes"
            )
    stratify = options.data_split_stratify
    if stratify is None:
        stratify = options.fold_strategy != "timeseries"
    if stratify and counts.min() < 2:
        rare = counts[counts < 2].index.tolist()
        raise DataError(
            f"Class {_names(_label(v) for v in rare)} of target {target!r} has only 1 row; "
            "the stratified train/test split needs at least 2 rows per class "
            "(remove the class, add rows, or set data_split_stratify to false)"
        )
    n_train, n_test = _split_sizes(n_rows, options.train_size)
    if stratify and n_test < len(counts):
        raise ConfigError(
            f"train_size={options.train_size} leaves {n_test} holdout rows for "
            f"{len(counts)} classes; lower train_size"
        )
    if stratify and n_train < len(counts):
        raise ConfigError(
            f"train_size={options.train_size} leaves {n_train} training rows for "
            f"{len(counts)} classes; raise train_size"
        )
    strategy = options.fold_strategy or "stratifiedkfold"
    if strategy == "stratifiedkfold":
        per_class_train = (counts * options.train_size).astype(int)
        if (per_class_train < fold).all():
            raise ConfigError(
                f"Every class has fewer than fold={fold} training rows; lower fold or raise "
                "train_size"
            )


def _check_regression(y: pd.Series, target: str, options: SetupOptions) -> None:
    dtype = y.dtype
    if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype):
        example = y.dropna().iloc[0]
        if not pd.api.types.is_bool_dtype(dtype):
            converted = pd.to_numeric(y, errors="coerce")
            if converted.notna().all():
                raise DataError(
                    f"Target column {target!r} holds numbers stored as text (dtype {dtype}); "
                    "convert it to a numeric column"
                )
        raise ConfigError(
            f"Target column {target!r} is not numeric (dtype {dtype}, e.g. {_label(example)}); "
            "regression needs a numeric target. Use a classification experiment for labels"
        )
    if y.nunique() < 2:
        raise DataError(
            f"Target column {target!r} is constant ({_label(y.iloc[0])}); regression needs a "
            "target that varies"
        )
    if options.fix_imbalance:
        raise ConfigError("fix_imbalance only applies to classification")
    if options.fold_strategy == "stratifiedkfold":
        raise ConfigError("fold_strategy 'stratifiedkfold' needs class labels; use kfold")
    if options.data_split_stratify:
        raise ConfigError("data_split_stratify needs class labels; regression targets are numbers")


def _check_options(data: pd.DataFrame, features: list[str], options: SetupOptions) -> list[str]:
    warnings = []
    if options.fold_strategy == "groupkfold":
        raise ConfigError(
            "fold_strategy 'groupkfold' needs fold groups, which Studio does not support yet; "
            "use kfold, stratifiedkfold or timeseries"
        )
    if options.fold_strategy == "timeseries" and options.data_split_stratify:
        raise ConfigError("fold_strategy 'timeseries' cannot be combined with data_split_stratify")
    set_explicitly = options.model_fields_set
    if "imputation_type" in set_explicitly and options.imputation_type is None:
        with_missing = [c for c in features if data[c].isna().any()]
        if with_missing:
            raise ConfigError(
                "imputation_type is off but these columns have missing values: "
                f"{_names(with_missing)}; choose simple or iterative imputation"
            )
    if "normalize_method" in set_explicitly and not options.normalize:
        warnings.append("normalize_method is ignored because normalize is off")
    return warnings


def check_inputs(
    *,
    data: Any,
    task: str,
    target: str,
    options: SetupOptions,
    fold: int | None = None,
) -> CheckedInput:
    """Validate before setup; returns the data to train on (rows with a target)."""
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"Expected a pandas DataFrame, got {type(data).__name__}")
    if data.empty or len(data.columns) == 0:
        raise DataError("The dataset is empty")
    _check_columns(data, target, options)

    y = data[target]
    if y.isna().all():
        raise DataError(f"Target column {target!r} has no values (all {len(y)} rows are missing)")
    checked = CheckedInput(data=data)
    n_missing = int(y.isna().sum())
    if n_missing:
        checked.data = data.loc[y.notna()]
        checked.dropped_missing_target = n_missing
        checked.warnings.append(
            f"Dropped {plural(n_missing, 'row')} whose target {target!r} is missing "
            f"({plural(len(checked.data), 'row')} left)"
        )
        y = checked.data[target]
    n_rows = len(checked.data)
    if n_rows < MIN_ROWS:
        have = "has" if n_rows == 1 else "have"
        raise DataError(
            f"Only {plural(n_rows, 'row')} {have} a target value; a run needs at least {MIN_ROWS}"
        )

    ignored = set(options.ignore_features or [])
    features = [c for c in checked.data.columns if c != target and c not in ignored]
    if not features:
        raise DataError("No feature columns are left after removing the target and ignored ones")
    _check_feature_values(checked.data, features)

    fold = fold or options.fold
    if task == "classification":
        _check_classification(y, target, options, fold, n_rows)
    else:
        _check_regression(y, target, options)
    n_train, _ = _split_sizes(n_rows, options.train_size)
    min_train = max(MIN_ROWS, 2 * fold)
    if n_train < min_train:
        raise ConfigError(
            f"train_size={options.train_size} leaves {n_train} training rows; "
            f"{fold}-fold cross-validation needs at least {min_train}. "
            "Raise train_size or lower fold"
        )
    checked.warnings.extend(_check_options(checked.data, features, options))
    return checked


def check_unsupervised_inputs(*, data: Any, options: SetupOptions) -> CheckedInput:
    """Validate before a clustering or anomaly setup, which learns from every column."""
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"Expected a pandas DataFrame, got {type(data).__name__}")
    if data.empty or len(data.columns) == 0:
        raise DataError("The dataset is empty")
    _check_columns(data, None, options)
    if len(data) < MIN_ROWS:
        raise DataError(
            f"The dataset has {plural(len(data), 'row')}; a run needs at least {MIN_ROWS}"
        )
    ignored = set(options.ignore_features or [])
    features = [c for c in data.columns if c not in ignored]
    if not features:
        raise DataError("No feature columns are left after removing the ignored ones")
    _check_feature_values(data, features)
    checked = CheckedInput(data=data)
    checked.warnings.extend(_check_options(data, features, options))
    return checked


def setup_kwargs(task: str, options: SetupOptions) -> dict[str, Any]:
    """PyCaret setup() kwargs for ``options``, adapted to what ``task`` accepts."""
    kwargs = options.to_setup_kwargs()
    # None means "PyCaret's default" except for imputation_type, where it turns imputation off
    kwargs = {k: v for k, v in kwargs.items() if v is not None or k == "imputation_type"}
    if task == "regression" and not kwargs.get("fix_imbalance", False):
        kwargs.pop("fix_imbalance", None)
    if kwargs.get("fold_strategy") == "timeseries":
        # PyCaret refuses a shuffled split with time-series folds; Studio has no separate knob
        kwargs["data_split_shuffle"] = False
        kwargs["fold_shuffle"] = False
        kwargs["data_split_stratify"] = False
    return with_run_n_jobs(kwargs)


def with_run_n_jobs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """`kwargs` with the n_jobs that STUDIO_RUN_N_JOBS sets, if it does."""
    n_jobs = run_n_jobs()
    return kwargs if n_jobs is None else {**kwargs, "n_jobs": n_jobs}


def feature_kind(series: pd.Series, column: str, options: SetupOptions) -> str:
    """How PyCaret treats ``column``: numeric, categorical, datetime or boolean."""
    if column in (options.date_features or []):
        return "datetime"
    if column in (options.categorical_features or []):
        return "categorical"
    if column in (options.numeric_features or []):
        return "numeric"
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pd.api.types.is_numeric_dtype(dtype):
        return "numeric"
    return "categorical"
