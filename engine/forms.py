"""Page forms for projects, dataset uploads, experiments and runs.

Forms only shape input; the services validate it (duplicate names, columns, setup options,
plans). The run form's model list comes from engine/model_registry.json, so the web process
never imports PyCaret.
"""

from __future__ import annotations

import math
from typing import Any

from django import forms
from django.conf import settings

from engine.capabilities import extra_plots, plan_kinds
from engine.metrics import task_metrics
from engine.model_registry import model_choices
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
        if name in ("name", "task"):
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
        names = ["name", "task", "target"]
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


PLAN_KIND_CHOICES = [
    ("compare", "Compare models"),
    ("create", "Create one model"),
    ("tune", "Tune one model"),
    ("ensemble", "Ensemble one model (bagging or boosting)"),
    ("blend", "Blend models"),
    ("setup", "Setup only (preprocessing summary)"),
]


class RunPlanForm(forms.Form):
    kind = forms.ChoiceField(label="Plan", choices=PLAN_KIND_CHOICES, initial="compare")
    models = forms.MultipleChoiceField(
        label="Models",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Compare: leave empty for PyCaret's default set. Blend: pick two or more, "
        "or leave empty to blend the top N of a comparison.",
    )
    model_id = forms.ChoiceField(label="Model", required=False)
    fold = forms.IntegerField(
        label="Folds", required=False, min_value=2, max_value=50, help_text="Default: setup's."
    )
    sort = forms.ChoiceField(label="Rank by", required=False)
    n_select = forms.IntegerField(label="Keep top", required=False, min_value=1, max_value=20)
    budget_time = forms.FloatField(
        label="Time budget (minutes)", required=False, min_value=0.1, max_value=24 * 60
    )
    n_iter = forms.IntegerField(label="Search iterations", required=False, min_value=1, initial=10)
    optimize = forms.ChoiceField(label="Optimize", required=False)
    method = forms.ChoiceField(
        label="Method", required=False, choices=[("Bagging", "Bagging"), ("Boosting", "Boosting")]
    )
    n_estimators = forms.IntegerField(
        label="Estimators", required=False, min_value=1, max_value=500, initial=10
    )
    top_n = forms.IntegerField(
        label="Blend the top N", required=False, min_value=2, max_value=10, initial=3
    )
    num_clusters = forms.IntegerField(
        label="Clusters",
        required=False,
        min_value=2,
        max_value=1000,
        help_text="For models that take a number of clusters (default 4).",
    )
    fraction = forms.FloatField(
        label="Fraction of anomalies",
        required=False,
        min_value=0.0001,
        max_value=0.5,
        help_text="The share of rows to flag, above 0 and at most 0.5 (default 0.05).",
    )
    plots = forms.MultipleChoiceField(
        label="Extra plots",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Slow on large data.",
    )

    def __init__(self, *args: Any, task: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.task = task
        kinds = plan_kinds(task)
        self.fields["kind"].choices = [c for c in PLAN_KIND_CHOICES if c[0] in kinds]
        if "compare" not in kinds:
            self.fields["kind"].initial = "create"
        choices = [(model_id, f"{name} ({model_id})") for model_id, name in model_choices(task)]
        self.fields["models"].choices = choices
        self.fields["model_id"].choices = [("", "Choose a model…"), *choices]
        metrics = [("", "Default"), *((m, m) for m in task_metrics(task))]
        self.fields["sort"].choices = metrics
        self.fields["optimize"].choices = metrics
        self.fields["plots"].choices = [(name, name) for name in extra_plots(task)]
        # Only the task's own create_model arguments are offered.
        if task != "clustering":
            del self.fields["num_clusters"]
        if task != "anomaly":
            del self.fields["fraction"]
        if not extra_plots(task):
            del self.fields["plots"]

    def task_fields(self):
        """The create plan's arguments of this task (clusters, fraction, extra plots)."""
        return [self[name] for name in ("num_clusters", "fraction", "plots") if name in self.fields]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        kind = data.get("kind")
        if kind in ("create", "tune", "ensemble") and not data.get("model_id"):
            self.add_error("model_id", "Choose the model to train.")
        if kind == "blend" and len(data.get("models") or []) == 1:
            self.add_error("models", "Blend needs two or more models, or none to use the top N.")
        return data

    def to_plan(self) -> dict[str, Any]:
        """The plan dict for the chosen kind, with only the options that kind takes."""
        data = self.cleaned_data
        kind = data["kind"]
        plan: dict[str, Any] = {"kind": kind}

        def put(key: str, value: Any) -> None:
            if value not in (None, "", []):
                plan[key] = value

        if kind == "compare":
            put("include", list(data.get("models") or []))
            put("fold", data.get("fold"))
            put("sort", data.get("sort"))
            put("n_select", data.get("n_select"))
            if data.get("budget_time"):
                put("budget_time", data["budget_time"])
        elif kind == "create":
            put("model_id", data.get("model_id"))
            put("num_clusters", data.get("num_clusters"))
            put("fraction", data.get("fraction"))
            put("plots", list(data.get("plots") or []))
        elif kind == "tune":
            put("model_id", data.get("model_id"))
            put("n_iter", data.get("n_iter"))
            put("optimize", data.get("optimize"))
        elif kind == "ensemble":
            put("model_id", data.get("model_id"))
            put("method", data.get("method"))
            put("n_estimators", data.get("n_estimators"))
        elif kind == "blend":
            models = list(data.get("models") or [])
            if models:
                plan["model_ids"] = models
            else:
                plan["top_n"] = data.get("top_n") or 3
        return plan
