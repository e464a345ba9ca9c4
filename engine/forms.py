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

from engine.metrics import task_metrics
from engine.model_registry import model_choices
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

    def __init__(self, *args: Any, task: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.task = task
        choices = [(model_id, f"{name} ({model_id})") for model_id, name in model_choices(task)]
        self.fields["models"].choices = choices
        self.fields["model_id"].choices = [("", "Choose a model…"), *choices]
        metrics = [("", "Default"), *((m, m) for m in task_metrics(task))]
        self.fields["sort"].choices = metrics
        self.fields["optimize"].choices = metrics

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
