"""The experiment form: a task, a target and setup options. Blank options mean PyCaret's
defaults; the experiment service validates the rest."""

from __future__ import annotations

import math
from typing import Any

from django import forms

from engine.models import Dataset, Task
from engine.plans import (
    MAX_FH,
    SUPERVISED_ONLY_OPTIONS,
    TARGET_TASKS,
    TASKS,
    UNSUPERVISED_TASKS,
    SetupOptions,
    TimeSeriesOptions,
)
from engine.selectors.datasets import dataset_date_columns

DEFAULT = ("", "Default")


def _literal_values(option: str, model=SetupOptions) -> list[str]:
    annotation = model.model_fields[option].annotation
    values: list[str] = []
    for arg in getattr(annotation, "__args__", ()):
        values.extend(a for a in getattr(arg, "__args__", (arg,)) if isinstance(a, str))
    return values


def _literal_choices(option: str) -> list[tuple[str, str]]:
    """The allowed strings of a Literal-typed SetupOptions field, as select choices."""
    return [DEFAULT] + [(v, v) for v in _literal_values(option)]


FOLD_STRATEGY_CHOICES = [
    DEFAULT,
    ("Tables", [(v, v) for v in _literal_values("fold_strategy")]),
    ("Time series", [(v, v) for v in _literal_values("fold_strategy", TimeSeriesOptions)]),
]
SERIES_OPTIONS = ("date_column", "fh", "fold", "fold_strategy", "seasonal_period", "session_id")
# The tasks each setup field applies to (the page shows only those of the chosen task).
FIELD_TASKS: dict[str, tuple[str, ...]] = {
    "target": TARGET_TASKS,
    **{name: ("time_series",) for name in ("date_column", "fh", "seasonal_period")},
    **{name: ("classification", "regression") for name in SUPERVISED_ONLY_OPTIONS},
    **{name: ("classification", "regression", "time_series") for name in ("fold", "fold_strategy")},
    "session_id": TASKS,
}


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
    description = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    task = forms.ChoiceField(choices=Task.choices)
    target = forms.ChoiceField(
        label="Target column",
        required=False,
        help_text="Time series: the numeric series. Clustering and anomaly detection take none.",
    )
    date_column = forms.ChoiceField(
        label="Date column", required=False, help_text="The date of each point of the series."
    )
    fh = forms.IntegerField(
        label="Forecast horizon (fh)",
        required=False,
        min_value=1,
        max_value=MAX_FH,
        help_text="How many periods to forecast and to hold out (default 1).",
    )
    seasonal_period = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=1000,
        help_text="Periods per season, e.g. 12 for monthly data (default: detected).",
    )
    train_size = forms.FloatField(
        required=False, help_text="Share of rows for training (default 0.7)."
    )
    fold = forms.IntegerField(
        required=False, help_text="Cross-validation folds (default 10; 3 for time series)."
    )
    fold_strategy = forms.ChoiceField(required=False, choices=FOLD_STRATEGY_CHOICES)
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
        required=False, max_length=64, help_text="mean, median, mode, knn, drop, or a number."
    )
    categorical_imputation = forms.CharField(
        required=False, max_length=255, help_text="mode, drop, or a fill value."
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
            self._default_target(dataset)
        for option in COLUMN_OPTIONS:
            self.fields[option].choices = columns
            self.fields[option].widget.attrs["size"] = min(6, max(2, len(columns)))
        # Forecasting is offered only when a column reads as dates.
        self.date_columns = dataset_date_columns(dataset)
        self.fields["date_column"].choices = [(c, c) for c in self.date_columns]
        if not self.date_columns:
            self.fields["task"].choices = [
                (value, label) for value, label in Task.choices if value != "time_series"
            ]

    @staticmethod
    def task_classes(name: str) -> str:
        """CSS classes that show a field only for the tasks it applies to."""
        if name in ("name", "description", "task"):
            return ""
        tasks = FIELD_TASKS.get(name, ("classification", "regression", *UNSUPERVISED_TASKS))
        return " ".join(["task-opts", *(f"for-{task}" for task in tasks)])

    def _default_target(self, dataset: Dataset) -> None:
        """The rule book's top target candidate, and the task its values suggest."""
        from copilots.rules.targets import top_target

        top = top_target(dataset.columns, dataset.n_rows, dataset_name=dataset.name)
        if top is None:
            return
        self.initial.setdefault("target", top["column"])
        if top["task"] in dict(self.fields["task"].choices):
            self.initial.setdefault("task", top["task"])

    def main_fields(self):
        names = ["name", "description", "task", "target"]
        if self.date_columns:
            names += ["date_column", "fh"]
        return [(self[name], self.task_classes(name)) for name in names]

    def setup_fields(self):
        names = [name for name in SetupOptions.model_fields if name != "fold_strategy"]
        names[names.index("fold") + 1 : names.index("fold") + 1] = ["fold_strategy"]
        if self.date_columns:
            names.insert(names.index("session_id"), "seasonal_period")
        return [(self[name], self.task_classes(name)) for name in names]

    def setup_has_errors(self) -> bool:
        names = (*SetupOptions.model_fields, "seasonal_period")
        return any(name in self.errors for name in names)

    def chosen_target(self) -> str | None:
        """The target, or None for a task that takes none (a hidden select keeps a value)."""
        if self.cleaned_data.get("task") in UNSUPERVISED_TASKS:
            return None
        return self.cleaned_data.get("target") or None

    def setup_options(self) -> dict[str, Any]:
        """Only the options the user set, and only those the chosen task takes, so PyCaret's
        defaults apply to the rest (a field hidden for this task may still hold a value)."""
        data = self.cleaned_data
        task = data.get("task")
        options: dict[str, Any] = {}
        for option in ("train_size", "fold", "session_id", "fh", "seasonal_period"):
            if data.get(option) is not None:
                options[option] = data[option]
        for option in ("fold_strategy", "normalize_method", "imputation_type", "date_column"):
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
        if task == "time_series":
            return {k: v for k, v in options.items() if k in SERIES_OPTIONS}
        options = {
            k: v for k, v in options.items() if k not in ("date_column", "fh", "seasonal_period")
        }
        if task in UNSUPERVISED_TASKS:
            options = {k: v for k, v in options.items() if k not in SUPERVISED_ONLY_OPTIONS}
        return options


class ExperimentDetailsForm(forms.Form):
    """What stays editable once an experiment has runs: its name and description."""

    name = forms.CharField(max_length=200)
    description = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


def experiment_initial(
    *, name: str, task: str, target: str | None, setup: dict[str, Any], description: str = ""
) -> dict[str, Any]:
    """ExperimentForm's initial values for an experiment's settings (the inverse of
    `setup_options`): to clone one, edit one, or fill in a suggested configuration."""
    initial: dict[str, Any] = {
        "name": name,
        "description": description,
        "task": task,
        "target": target or "",
    }
    for option, value in (setup or {}).items():
        if option == "data_split_stratify":
            initial[option] = "true" if value else "false"
        elif option in ("numeric_imputation", "categorical_imputation"):
            initial[option] = str(value)
        else:
            initial[option] = value
    return initial
