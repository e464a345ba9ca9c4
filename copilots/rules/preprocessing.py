"""What a run's preprocessing summary (PyCaret's setup table) says: the training rows, and
whether the pipeline imputes missing values and encodes categories."""

from __future__ import annotations

import ast
import re
from typing import Any

from copilots.numbers import as_number
from copilots.rules.risks import risk


def lookup(preprocessing: dict[str, Any], *names: str) -> tuple[bool, Any]:
    """(found, value) of the first of `names` (lower-case) in the summary, whatever its case."""
    lowered = {str(k).strip().lower(): v for k, v in preprocessing.items()}
    for name in names:
        if name in lowered:
            return True, lowered[name]
    return False, None


def shape_rows(value: Any) -> int | None:
    """The row count of a shape as stored: `[rows, cols]`, "(rows, cols)" or text."""
    if isinstance(value, list | tuple) and value:
        return int(value[0]) if as_number(value[0]) is not None else None
    if isinstance(value, str):
        try:
            parsed = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError):
            match = re.match(r"\D*(\d+)", value)
            return int(match.group(1)) if match else None
        return shape_rows(parsed)
    return None


def train_rows(preprocessing: dict[str, Any]) -> int | None:
    """The rows the model was trained on, if the summary says."""
    found, shape = lookup(preprocessing, "transformed train set shape", "train data shape")
    return shape_rows(shape) if found else None


def preprocessing_risks(
    *,
    preprocessing: dict[str, Any],
    missing_features: list[str],
    categorical_features: list[str],
) -> list[dict[str, str]]:
    """Features with missing values and no imputer, or categories and no encoder.

    A summary that does not say is a low risk: the pipeline may well handle them.
    """
    if not missing_features and not categorical_features:
        return []
    if not preprocessing:
        return [
            risk(
                "preprocessing unknown",
                "low",
                "the run stored no preprocessing summary, so whether the pipeline imputes "
                "missing values and encodes categories cannot be checked",
            )
        ]
    found = []
    _, preprocess = lookup(preprocessing, "preprocess")
    off = preprocess is False or str(preprocess).lower() == "false"
    if missing_features:
        has_key, imputation = lookup(preprocessing, "imputation type")
        no_imputer = off or (has_key and str(imputation).strip().lower() in ("none", "", "null"))
        if no_imputer:
            found.append(
                risk(
                    "no imputer for missing values",
                    "high",
                    f"{len(missing_features)} feature(s) have missing values ("
                    + ", ".join(missing_features[:5])
                    + ") but the pipeline does not impute",
                )
            )
        elif not has_key:
            found.append(
                risk(
                    "imputation unknown",
                    "low",
                    "the preprocessing summary does not say how missing values are imputed",
                )
            )
    if categorical_features:
        has_key, _ = lookup(
            preprocessing, "maximum one-hot encoding", "encoding method", "categorical features"
        )
        if off:
            found.append(
                risk(
                    "no encoder for categorical features",
                    "high",
                    f"categorical features ({', '.join(categorical_features[:5])}) but "
                    "preprocessing is off",
                )
            )
        elif not has_key:
            found.append(
                risk(
                    "encoding unknown",
                    "low",
                    "the preprocessing summary does not say how categories are encoded",
                )
            )
    return found
