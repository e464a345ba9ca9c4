"""The "New run" form: a plan kind, its options and a model picker fed by the registry JSON.

The model list comes from engine/model_registry.json, so the web process never imports PyCaret.
The form only shapes a plan dict; `engine.plans` (through run_submit) is what validates it.
"""

from __future__ import annotations

from typing import Any

from django import forms

from engine.model_registry import model_choices

PLAN_KIND_CHOICES = [
    ("compare", "Compare models"),
    ("create", "Create one model"),
    ("tune", "Tune one model"),
    ("ensemble", "Ensemble one model (bagging or boosting)"),
    ("blend", "Blend models"),
    ("setup", "Setup only (preprocessing summary)"),
]

# PyCaret's default metrics per task, by the display names its leaderboards use.
METRICS = {
    "classification": ["Accuracy", "AUC", "Recall", "Prec.", "F1", "Kappa", "MCC"],
    "regression": ["MAE", "MSE", "RMSE", "R2", "RMSLE", "MAPE"],
}


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
        metrics = [("", "Default"), *((m, m) for m in METRICS.get(task, []))]
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
