"""The New run form. Its model list comes from engine/model_registry.json, so the web process
never imports PyCaret; engine.plans (through run_submit) validates the plan it shapes."""

from __future__ import annotations

from typing import Any

from django import forms

from engine.capabilities import extra_plots, plan_kinds
from engine.metrics import task_metrics
from engine.model_registry import model_choices

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


# The plan keys the form carries, per kind (what `RunPlanForm.to_plan` can give back).
FORM_PLAN_KEYS = {
    "setup": (),
    "compare": ("include", "fold", "sort", "n_select", "budget_time"),
    "create": ("model_id", "num_clusters", "fraction", "plots"),
    "tune": ("model_id", "n_iter", "optimize"),
    "ensemble": ("model_id", "method", "n_estimators"),
    "blend": ("model_ids", "top_n"),
}


def plan_initial(plan: dict[str, Any]) -> dict[str, Any]:
    """The New run form's initial values for `plan` (the inverse of RunPlanForm.to_plan)."""
    kind = plan.get("kind", "compare")
    initial: dict[str, Any] = {"kind": kind}
    for key in FORM_PLAN_KEYS.get(kind, ()):
        value = plan.get(key)
        if value in (None, "", []):
            continue
        if key in ("include", "model_ids"):
            initial["models"] = list(value)
        else:
            initial[key] = list(value) if isinstance(value, list) else value
    return initial


def plan_leftovers(plan: dict[str, Any]) -> list[str]:
    """The plan's settings the form cannot carry (e.g. compare's exclude, create's params):
    a plan edited in the form goes without them, so the page names them."""
    kind = plan.get("kind", "compare")
    kept = {"kind", *FORM_PLAN_KEYS.get(kind, ())}
    return sorted(k for k, v in plan.items() if k not in kept and v not in (None, "", [], {}))
