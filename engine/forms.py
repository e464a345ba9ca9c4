"""Page forms for projects, dataset uploads and experiments.

Forms only shape input; the services validate it (duplicate names, columns, setup options).
"""

from __future__ import annotations

import math
from typing import Any

from django import forms
from django.conf import settings

from engine.models import Dataset
from engine.plans import TASKS, SetupOptions

DEFAULT = ("", "Default")


class ProjectForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )


class ProjectRenameForm(forms.Form):
    name = forms.CharField(max_length=120, label="New name")


class DatasetUploadForm(forms.Form):
    # Empty files reach ingestion, which explains the problem the same way for page and API.
    file = forms.FileField(
        allow_empty_file=True,
        label="Data file",
        help_text="CSV, TSV or Parquet.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.tsv,.txt,.parquet"}),
    )
    name = forms.CharField(
        required=False, max_length=200, label="Name", help_text="Defaults to the file name."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields[
            "file"
        ].help_text = f"CSV, TSV or Parquet, up to {settings.STUDIO_MAX_UPLOAD_MB} MB."

    @property
    def max_bytes(self) -> int:
        return settings.STUDIO_MAX_UPLOAD_MB * 1024 * 1024


def _literal_choices(option: str) -> list[tuple[str, str]]:
    """The allowed strings of a Literal-typed SetupOptions field, as select choices."""
    annotation = SetupOptions.model_fields[option].annotation
    values: list[str] = []
    for arg in getattr(annotation, "__args__", ()):
        values.extend(a for a in getattr(arg, "__args__", (arg,)) if isinstance(a, str))
    return [DEFAULT] + [(v, v) for v in values]


TRISTATE = [DEFAULT, ("true", "Yes"), ("false", "No")]
BOOLEAN_OPTIONS = (
    "normalize",
    "transformation",
    "remove_outliers",
    "fix_imbalance",
    "feature_selection",
    "polynomial_features",
)
COLUMN_OPTIONS = ("ignore_features", "categorical_features", "numeric_features", "date_features")


class ExperimentForm(forms.Form):
    """An experiment on one dataset. Blank options mean "PyCaret's default"."""

    name = forms.CharField(max_length=200)
    task = forms.ChoiceField(choices=[(t, t.title()) for t in TASKS])
    target = forms.ChoiceField(label="Target column")
    train_size = forms.FloatField(
        required=False, help_text="Share of rows for training (default 0.7)."
    )
    fold = forms.IntegerField(required=False, help_text="Cross-validation folds (default 10).")
    fold_strategy = forms.ChoiceField(required=False, choices=_literal_choices("fold_strategy"))
    session_id = forms.IntegerField(
        required=False, label="Session id", help_text="A seed, for reproducible runs."
    )
    normalize = forms.BooleanField(required=False)
    normalize_method = forms.ChoiceField(
        required=False, choices=_literal_choices("normalize_method")
    )
    transformation = forms.BooleanField(required=False)
    remove_outliers = forms.BooleanField(required=False)
    fix_imbalance = forms.BooleanField(required=False)
    feature_selection = forms.BooleanField(required=False)
    polynomial_features = forms.BooleanField(required=False)
    ignore_features = forms.MultipleChoiceField(required=False)
    categorical_features = forms.MultipleChoiceField(required=False)
    numeric_features = forms.MultipleChoiceField(required=False)
    date_features = forms.MultipleChoiceField(required=False)
    imputation_type = forms.ChoiceField(required=False, choices=_literal_choices("imputation_type"))
    numeric_imputation = forms.CharField(
        required=False, help_text="mean, median, mode, knn, drop, or a number."
    )
    categorical_imputation = forms.CharField(
        required=False, help_text="mode, drop, or a fill value."
    )
    data_split_stratify = forms.ChoiceField(
        required=False, choices=TRISTATE, label="Stratify the split"
    )

    def __init__(self, *args, dataset: Dataset, **kwargs):
        super().__init__(*args, **kwargs)
        self.dataset = dataset
        columns = [(c, c) for c in dataset.column_names]
        self.fields["target"].choices = [("", "Choose a column")] + columns
        if not self.is_bound and dataset.column_names:
            self.initial.setdefault("target", dataset.column_names[-1])
        for option in COLUMN_OPTIONS:
            self.fields[option].choices = columns
            self.fields[option].widget.attrs["size"] = min(6, max(2, len(columns)))

    def main_fields(self):
        return [self[name] for name in ("name", "task", "target")]

    def setup_fields(self):
        return [self[name] for name in SetupOptions.model_fields]

    def setup_has_errors(self) -> bool:
        return any(name in self.errors for name in SetupOptions.model_fields)

    def setup_options(self) -> dict[str, Any]:
        """Only the options the user set, so PyCaret's defaults apply to the rest."""
        data = self.cleaned_data
        options: dict[str, Any] = {}
        for option in ("train_size", "fold", "session_id"):
            if data.get(option) is not None:
                options[option] = data[option]
        for option in ("fold_strategy", "normalize_method", "imputation_type"):
            if data.get(option):
                options[option] = data[option]
        for option in BOOLEAN_OPTIONS:
            if data.get(option):
                options[option] = True
        for option in COLUMN_OPTIONS:
            if data.get(option):
                options[option] = list(data[option])
        numeric = (data.get("numeric_imputation") or "").strip()
        if numeric:
            try:
                value = float(numeric)
            except ValueError:
                options["numeric_imputation"] = numeric
            else:
                options["numeric_imputation"] = value if math.isfinite(value) else numeric
        categorical = (data.get("categorical_imputation") or "").strip()
        if categorical:
            options["categorical_imputation"] = categorical
        if data.get("data_split_stratify"):
            options["data_split_stratify"] = data["data_split_stratify"] == "true"
        return options
