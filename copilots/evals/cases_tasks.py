"""Evaluation cases for the tasks beyond classification and regression: a dataset with a date
column and a numeric series suggests forecasting, one with no plausible target clustering or
anomaly detection; experiment design suggests a valid plan of each task; and each task's own
risk check (a dominant cluster, a flagged share far from the fraction, a forecast horizon beyond
the validated window) fires on a bad case and stays quiet on a good one; the explanations speak
in the task's own metrics, and no advice names a classification metric."""

from __future__ import annotations

from copilots.evals import frames
from copilots.evals.cases_data import analysis, design
from copilots.evals.cases_models import explain, review
from copilots.evals.harness import Has, Lacks
from copilots.rules.outcomes import DOMINANT_RISK, FLAGGED_RISK, HORIZON_RISK

APPROVE, CAVEATS = "APPROVE", "APPROVE WITH CAVEATS"
CLASSIFICATION_METRICS = [Lacks(m) for m in ("Accuracy", "AUC", "Recall", "F1", "Kappa", "MCC")]
SERIES_SETUP = {"date_column": "month", "fh": 12, "fold": 3}
FORECAST_SCORES = {"MASE": 0.41, "RMSSE": 0.43, "MAE": 9.8, "RMSE": 11.3, "R2": 0.55}


def clusters(*shares: float, rows: int = 150) -> dict:
    counts = [round(s * rows) for s in shares]
    return {
        "rows": rows,
        "clusters": [
            {"label": f"Cluster {i}", "rows": n, "share": n / rows} for i, n in enumerate(counts)
        ],
        "can_predict": True,
    }


def unsupervised(task: str, plan: dict, *, summary: dict | None = None, metrics=None):
    """Build step: iris measurements, a `task` experiment, then `plan` trained for real, or,
    with `summary`, a run recorded with that summary (what the model found) as it is."""

    def build(env):
        dataset = env.dataset(frames.measurements(), f"{task}.csv")
        experiment = env.experiment(dataset, "", task, {"session_id": 123}, name=task)
        if summary is None:
            return env.trained_run(experiment, plan)
        row = {"model_id": plan["model_id"], "Model": plan["model_id"], **(metrics or {})}
        return env.recorded_run(
            experiment,
            leaderboard=[row],
            metrics={k: v for k, v in row.items() if k != "model_id"},
            plan=plan,
            summary=summary,
            leaderboard_sort="Silhouette" if task == "clustering" else "",
            preprocessing={"Transformed data shape": [150, 4], "Imputation type": "simple"},
        )

    return build


def forecast(*horizons: int):
    """Build step: a monthly series validated on its last 12 months (fh=12), whose deployment
    was asked for forecasts of `horizons` periods."""

    def build(env):
        from engine.models import PredictionRequest

        dataset = env.dataset(frames.monthly_series(), "passengers.csv")
        experiment = env.experiment(dataset, "passengers", "time_series", SERIES_SETUP)
        row = {"model_id": "arima", "Model": "ARIMA", **FORECAST_SCORES}
        run = env.recorded_run(
            experiment,
            leaderboard=[row, {**row, "model_id": "ets", "Model": "ETS", "MASE": 0.52}],
            metrics={"Model": "ARIMA", **FORECAST_SCORES, "MASE": 0.39},
            plan={"kind": "compare"},
            leaderboard_sort="MASE",
            summary={"date_column": "month", "frequency": "M", "points": 144, "fh": 12},
            preprocessing={
                "Transformed train set shape": [132, 1],
                "Transformed test set shape": [12, 1],
            },
            feature_schema=[],
        )
        pipeline = env.pipeline(run, name="forecast")
        deployment = env.deployment(pipeline, frames.monthly_series().head(0))
        PredictionRequest.objects.bulk_create(
            PredictionRequest(deployment=deployment, horizon=h) for h in horizons
        )
        return run

    return build


KMEANS = {"kind": "create", "model_id": "kmeans", "num_clusters": 3}
IFOREST = {"kind": "create", "model_id": "iforest", "fraction": 0.05}
SILHOUETTE = {"Silhouette": 0.71, "Calinski-Harabasz": 90.2, "Davies-Bouldin": 0.41}

CASES = [
    # Dataset analysis: forecasting, and no plausible target.
    analysis(
        "a monthly series: forecast passengers by month",
        frames.monthly_series,
        "air.csv",
        target="passengers",
        task="time_series",
        suggests=[Has("time_series"), Lacks("clustering")],
        risks=[Lacks("ID-like columns")],
    ),
    analysis(
        "a daily series beside a weekday label",
        frames.daily_series,
        "visits.csv",
        task="time_series",
        suggests=[Has("time_series")],
    ),
    analysis(
        "signup dates that repeat are no series",
        lambda: frames.customers(date=True),
        "churn_signups.csv",
        target="churn",
        suggests=[Lacks("time_series"), Lacks("clustering")],
    ),
    analysis(
        "measurements only: no plausible target",
        frames.measurements,
        "measurements.csv",
        suggests=[Has("clustering"), Has("anomaly"), Lacks("time_series")],
    ),
    # Experiment design: a valid plan of each task.
    design(
        "a monthly series: a valid forecast",
        frames.monthly_series,
        "air.csv",
        task="time_series",
        target="passengers",
        series=("month", 12, 3),
        sort="MASE",
        plan_valid=True,
    ),
    design(
        "measurements only: a valid clustering",
        frames.measurements,
        "measurements.csv",
        task="clustering",
        target="",
        model_id="kmeans",
        plan_valid=True,
    ),
    design(
        "measurements and an outlier goal: a valid anomaly detection",
        frames.measurements,
        "measurements.csv",
        goal="flag the outliers",
        task="anomaly",
        model_id="iforest",
        plan_valid=True,
    ),
    design(
        "classification and regression plans stay valid",
        lambda: frames.customers(minority=0.03),
        "churn_rare.csv",
        task="classification",
        plan_valid=True,
    ),
    # Each task's own check: fires on the bad case, quiet on the good one, in its own metrics.
    review(
        "one cluster holds 95% of the rows",
        unsupervised("clustering", KMEANS, summary=clusters(0.95, 0.05), metrics=SILHOUETTE),
        risks=[Has((DOMINANT_RISK, "medium"))],
        verdict=CAVEATS,
        metrics_named=CLASSIFICATION_METRICS,
    ),
    review(
        "k-means on iris: no dominant cluster",
        unsupervised("clustering", KMEANS),
        risks=[Lacks(DOMINANT_RISK), Lacks("small training sample")],
        verdict=APPROVE,
        metrics_named=CLASSIFICATION_METRICS,
    ),
    explain(
        "k-means explained by its own scores",
        unsupervised("clustering", KMEANS),
        suggests_tuning=False,
        says_stable=False,
        agrees_with_review=True,
        metrics_named=[Has("Silhouette"), Has("Davies-Bouldin"), *CLASSIFICATION_METRICS],
    ),
    review(
        "fraction 0.05 but 30% flagged",
        unsupervised(
            "anomaly",
            IFOREST,
            summary={"rows": 150, "flagged": 45, "flagged_share": 0.3, "fraction": 0.05},
            metrics={"Flagged": 45, "Flagged share": 0.3},
        ),
        risks=[Has((FLAGGED_RISK, "medium"))],
        verdict=CAVEATS,
    ),
    review(
        "iforest on iris flags its fraction",
        unsupervised("anomaly", IFOREST),
        risks=[Lacks(FLAGGED_RISK)],
        verdict=APPROVE,
        metrics_named=CLASSIFICATION_METRICS,
    ),
    explain(
        "an anomaly detector explained by what it flagged",
        unsupervised("anomaly", IFOREST),
        suggests_tuning=False,
        agrees_with_review=True,
        metrics_named=CLASSIFICATION_METRICS,
    ),
    review(
        "forecasts of 36 months from a 12-month validation",
        forecast(6, 36),
        risks=[Has((HORIZON_RISK, "medium"))],
        verdict=CAVEATS,
        metrics_named=CLASSIFICATION_METRICS,
    ),
    review(
        "forecasts within the validated 12 months",
        forecast(6, 12),
        risks=[Lacks(HORIZON_RISK), Lacks("small training sample")],
        verdict=APPROVE,
    ),
    explain(
        "a forecast beyond its validation, explained in MASE",
        forecast(24),
        agrees_with_review=True,
        risks=[Has((HORIZON_RISK, "medium"))],
        metrics_named=[Has("MASE"), *CLASSIFICATION_METRICS],
    ),
]
