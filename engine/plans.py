"""Validated run plans and setup options: the contract between the web layer and the runner.

This module is imported by the web process, so it must stay free of Django and PyCaret.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

TASKS = ("classification", "regression", "clustering", "anomaly", "time_series")
# Tasks whose experiment names a target column (time series: the numeric series itself).
TARGET_TASKS = ("classification", "regression", "time_series")
# Tasks that learn from all the columns, with no target.
UNSUPERVISED_TASKS = ("clustering", "anomaly")
TASK_LABELS = {
    "classification": "classification",
    "regression": "regression",
    "clustering": "clustering",
    "anomaly": "anomaly detection",
    "time_series": "time-series forecasting",
}

Task = Literal["classification", "regression", "clustering", "anomaly", "time_series"]

# Plots the runner tries to save for each task; the web layer uses this for progress estimates.
PLOTS: dict[str, tuple[str, ...]] = {
    "classification": ("auc", "confusion_matrix", "pr", "feature"),
    "regression": ("residuals", "error", "feature"),
    # t-SNE is never a default: it takes far longer than the model on larger data.
    "clustering": ("elbow", "cluster", "distribution"),
    "anomaly": (),
    "time_series": ("forecast", "residuals"),
}

# Caps are those of the columns a run stores them in (a column name, a metric name).
ColumnList = list[Annotated[str, Field(min_length=1, max_length=255)]]
MetricName = Annotated[str, Field(min_length=1, max_length=64)]


class SetupOptions(BaseModel):
    """The subset of PyCaret ``setup()`` options that Studio exposes.

    Defaults mirror PyCaret 3.3's own; ``None`` means "let PyCaret decide" (some defaults,
    like the fold strategy, depend on the task). Only options set explicitly are passed on.
    """

    model_config = ConfigDict(extra="forbid")

    train_size: float = Field(default=0.7, gt=0, lt=1)
    fold: int = Field(default=10, ge=2, le=50)
    fold_strategy: Literal["kfold", "stratifiedkfold", "groupkfold", "timeseries"] | None = None
    session_id: int | None = Field(default=None, ge=0, le=2**32 - 1)
    normalize: bool = False
    normalize_method: Literal["zscore", "minmax", "maxabs", "robust"] = "zscore"
    transformation: bool = False
    remove_outliers: bool = False
    fix_imbalance: bool = False
    feature_selection: bool = False
    polynomial_features: bool = False
    ignore_features: ColumnList | None = None
    categorical_features: ColumnList | None = None
    numeric_features: ColumnList | None = None
    date_features: ColumnList | None = None
    imputation_type: Literal["simple", "iterative"] | None = "simple"
    numeric_imputation: Literal["mean", "median", "mode", "knn", "drop"] | float = "mean"
    categorical_imputation: (
        Literal["mode", "drop"] | Annotated[str, Field(min_length=1, max_length=255)]
    ) = "mode"
    data_split_stratify: bool | None = None

    @model_validator(mode="after")
    def _column_roles_do_not_overlap(self) -> SetupOptions:
        roles = self.referenced_columns()
        seen: dict[str, str] = {}
        for option, columns in roles.items():
            for column in columns:
                if column in seen:
                    raise ValueError(
                        f"column {column!r} is named in both {seen[column]} and {option}"
                    )
                seen[column] = option
        return self

    def to_setup_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for PyCaret ``setup()``: only the options set explicitly."""
        return self.model_dump(exclude_unset=True)

    def referenced_columns(self) -> dict[str, list[str]]:
        """Option name → the column names it refers to (only options that name columns)."""
        out: dict[str, list[str]] = {}
        for option in (
            "ignore_features",
            "categorical_features",
            "numeric_features",
            "date_features",
        ):
            columns = getattr(self, option)
            if columns:
                out[option] = list(columns)
        return out


# The longest forecast horizon an experiment or a forecast request may ask for.
MAX_FH = 1000

# SetupOptions that PyCaret's clustering and anomaly setup() does not take: they are about a
# train/test split, cross-validation or a target, which those tasks do not have.
SUPERVISED_ONLY_OPTIONS = (
    "train_size",
    "fold",
    "fold_strategy",
    "fix_imbalance",
    "feature_selection",
    "data_split_stratify",
)


class TimeSeriesOptions(BaseModel):
    """The setup options of a time-series experiment (PyCaret's forecasting ``setup()``).

    The series is the experiment's target, indexed by ``date_column``; the other columns of
    the dataset are not used, so a deployment forecasts from ``fh`` alone.
    """

    model_config = ConfigDict(extra="forbid")

    date_column: Annotated[str, Field(min_length=1)]
    fh: int = Field(default=1, ge=1, le=MAX_FH)
    fold: int = Field(default=3, ge=2, le=50)
    fold_strategy: Literal["expanding", "rolling", "sliding"] | None = None
    seasonal_period: int | None = Field(default=None, ge=1, le=1000)
    session_id: int | None = Field(default=None, ge=0, le=2**32 - 1)

    def to_setup_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for PyCaret ``setup()``: only the options set explicitly."""
        kwargs = self.model_dump(exclude_unset=True, exclude={"date_column"})
        kwargs.setdefault("fh", self.fh)  # PyCaret's own default is also 1; say it anyway
        return {k: v for k, v in kwargs.items() if v is not None}

    def referenced_columns(self) -> dict[str, list[str]]:
        return {"date_column": [self.date_column]}


def options_model(task: str) -> type[SetupOptions] | type[TimeSeriesOptions]:
    """The setup-options schema of ``task``."""
    return TimeSeriesOptions if task == "time_series" else SetupOptions


def parse_setup_options(task: str, data: Any) -> SetupOptions | TimeSeriesOptions:
    """Validate ``data`` (a dict or an options object) as ``task``'s setup options.

    Raises ``pydantic.ValidationError``, or ``ValueError`` naming an option ``task`` does not
    take.
    """
    model = options_model(task)
    if isinstance(data, model):
        options = data
    else:
        if isinstance(data, BaseModel):
            data = data.model_dump(exclude_unset=True)
        options = model.model_validate(data or {})
    unused = inapplicable_options(task, options)
    if unused:
        raise ValueError(inapplicable_message(task, unused))
    return options


def inapplicable_options(task: str, options: BaseModel) -> list[str]:
    """Options set explicitly that ``task`` does not take."""
    if task not in UNSUPERVISED_TASKS:
        return []
    return [name for name in SUPERVISED_ONLY_OPTIONS if name in options.model_fields_set]


def inapplicable_message(task: str, names: list[str]) -> str:
    verb = "does" if len(names) == 1 else "do"
    return (
        f"{', '.join(names)} {verb} not apply to {TASK_LABELS.get(task, task)}, which has no "
        "target, train/test split or cross-validation"
    )


ModelId = Annotated[str, Field(min_length=1, max_length=64)]


class _PlanBase(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SetupPlan(_PlanBase):
    """Run setup only and report the preprocessing summary."""

    kind: Literal["setup"] = "setup"


class ComparePlan(_PlanBase):
    """Cross-validate many models and keep the best (PyCaret ``compare_models``)."""

    kind: Literal["compare"] = "compare"
    include: list[ModelId] | None = Field(default=None, min_length=1)
    exclude: list[ModelId] | None = Field(default=None, min_length=1)
    n_select: int = Field(default=1, ge=1, le=20)
    sort: MetricName | None = None
    budget_time: float | None = Field(default=None, gt=0)
    fold: int | None = Field(default=None, ge=2, le=50)

    @model_validator(mode="after")
    def _include_or_exclude(self) -> ComparePlan:
        if self.include is not None and self.exclude is not None:
            raise ValueError("use include or exclude, not both")
        return self


class CreatePlan(_PlanBase):
    """Train and cross-validate one model (PyCaret ``create_model``).

    ``num_clusters`` (clustering) and ``fraction`` (anomaly detection) are create_model's own
    arguments for those tasks; ``plots`` asks for plots beyond the task's defaults (t-SNE).
    """

    kind: Literal["create"] = "create"
    model_id: ModelId
    params: dict[str, Any] = Field(default_factory=dict)
    num_clusters: int | None = Field(default=None, ge=2, le=1000)
    fraction: float | None = Field(default=None, gt=0, le=0.5)
    plots: list[Annotated[str, Field(min_length=1, max_length=32)]] | None = Field(
        default=None, min_length=1, max_length=10
    )


class TunePlan(_PlanBase):
    """Create a model, then tune its hyperparameters (PyCaret ``tune_model``)."""

    kind: Literal["tune"] = "tune"
    model_id: ModelId
    n_iter: int = Field(default=10, ge=1, le=200)
    optimize: MetricName | None = None


class EnsemblePlan(_PlanBase):
    """Create a model, then bag or boost it (PyCaret ``ensemble_model``)."""

    kind: Literal["ensemble"] = "ensemble"
    model_id: ModelId
    method: Literal["Bagging", "Boosting"] = "Bagging"
    n_estimators: int = Field(default=10, ge=1, le=500)


class BlendPlan(_PlanBase):
    """Blend named models, or the top N of a comparison (PyCaret ``blend_models``)."""

    kind: Literal["blend"] = "blend"
    model_ids: list[ModelId] | None = Field(default=None, min_length=2, max_length=20)
    top_n: int | None = Field(default=None, ge=2, le=10)
    include: list[ModelId] | None = Field(default=None, min_length=1)
    exclude: list[ModelId] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _exactly_one_source(self) -> BlendPlan:
        if (self.model_ids is None) == (self.top_n is None):
            raise ValueError("give exactly one of model_ids or top_n")
        if self.model_ids is not None and (self.include or self.exclude):
            raise ValueError("include and exclude only apply with top_n")
        if self.include is not None and self.exclude is not None:
            raise ValueError("use include or exclude, not both")
        if self.model_ids is not None and len(set(self.model_ids)) != len(self.model_ids):
            raise ValueError("model_ids must not repeat")
        return self


Plan = Annotated[
    SetupPlan | ComparePlan | CreatePlan | TunePlan | EnsemblePlan | BlendPlan,
    Field(discriminator="kind"),
]

PlanAdapter: TypeAdapter[Plan] = TypeAdapter(Plan)

PLAN_KINDS = ("setup", "compare", "create", "tune", "ensemble", "blend")


def parse_plan(data: dict[str, Any]) -> Plan:
    """Validate a plan dict; raises ``pydantic.ValidationError``."""
    return PlanAdapter.validate_python(data)


def plan_total_steps(plan: Plan, n_models: int, task: str = "classification") -> int:
    """Estimate the progress total the runner will report.

    ``n_models`` is how many models a comparison evaluates (used by compare and
    blend-with-top_n). The runner reports its own exact total once it starts.
    """
    if plan.kind == "setup":
        return 1
    if plan.kind == "compare":
        training = n_models
    elif plan.kind == "create":
        training = 1
    elif plan.kind in ("tune", "ensemble"):
        training = 2
    elif plan.model_ids is not None:
        training = len(plan.model_ids) + 1
    else:
        training = n_models + 1
    plots = len(set(PLOTS.get(task, ())) | set(getattr(plan, "plots", None) or ()))
    refit = 1 if task == "time_series" else 0  # a forecaster is refitted on the whole series
    # setup + training + holdout (or what an unsupervised model found) + refit + plots + artifact
    return 1 + training + 1 + refit + plots + 1
