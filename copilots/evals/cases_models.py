"""Evaluation cases for the copilots that read runs, pipelines and deployments: run
explanation, failure debugging, deployment review (the verdict floor for known risks) and drift
analysis (the decision for a known shift)."""

from __future__ import annotations

from copilots.evals import frames
from copilots.evals.harness import Case, Has, Lacks

PERFECT = "overfit: perfect cross-validation score"
GAP = "overfit: holdout far below cross-validation"
APPROVE, CAVEATS, DO_NOT_DEPLOY = "APPROVE", "APPROVE WITH CAVEATS", "DO NOT DEPLOY"


def board(metric: str, *scores: tuple[str, float], **more) -> list[dict]:
    """Leaderboard rows, best first: (model id, score on `metric`)."""
    names = {"lr": "Logistic Regression", "rf": "Random Forest", "dt": "Decision Tree"}
    return [{"model_id": m, "Model": names.get(m, m), metric: v, **more} for m, v in scores]


def recorded(frame_fn, filename, target, *, task="classification", setup=None, **run):
    """Build step: upload, create the experiment, record a run with the given scores."""

    def build(env):
        dataset = env.dataset(frame_fn(), filename)
        experiment = env.experiment(dataset, target, task, setup)
        return env.recorded_run(experiment, **run)

    return build


def explain(name, build, **expected) -> Case:
    return Case(name, "run_explanation", lambda env: (build(env), {}), expected)


def review(name, build, **expected) -> Case:
    return Case(name, "deployment_review", lambda env: (env.pipeline(build(env)), {}), expected)


def failed(frame_fn, filename, target, plan, *, task="classification", raw=False):
    def build(env):
        dataset = env.dataset(frame_fn(), filename)
        experiment = env.experiment(dataset, target, task, raw=raw)
        return env.failed_run(experiment, plan), {}

    return build


def old_failure(message: str, error_type: str):
    """A failed row from before the runner recorded categories."""

    def build(env):
        from django.utils import timezone

        from engine.models import Run

        dataset = env.dataset(frames.customers(n=200), "churn_old.csv")
        experiment = env.experiment(dataset, "churn")
        now = timezone.now()
        run = Run.objects.create(
            experiment=experiment,
            plan={"kind": "compare"},
            status="failed",
            started_at=now,
            finished_at=now,
            error_type=error_type,
            error_message=message,
        )
        return run, {}

    return build


def drifting(columns: list[str], by: float, n_samples: int = 300):
    """Build step: a deployment whose logged inputs are training rows moved by `by` standard
    deviations on `columns`."""

    def build(env):
        frame = frames.customers(n=1000)  # KS and chi-square tests up to 1000 reference rows
        dataset = env.dataset(frame, "churn_drift.csv")
        experiment = env.experiment(dataset, "churn")
        run = env.recorded_run(
            experiment, leaderboard=board("Accuracy", ("lr", 0.81)), metrics={"Accuracy": 0.8}
        )
        current = frame.sample(n=n_samples, random_state=21).drop(columns=["churn"])
        deployment = env.deployment(env.pipeline(run), frames.shifted(current, columns, by))
        return deployment, {}

    return build


TUNE_KEPT = {
    "kept_original": True,
    "metric": "F1",
    "original_cv": 0.9831,
    "tuned_cv": 0.9745,
    "original_row": {"model_id": "rf", "Model": "Random Forest", "F1": 0.9831},
    "tuned_row": {"model_id": "rf", "Model": "Random Forest", "F1": 0.9745},
}
TUNE_BETTER = {**TUNE_KEPT, "kept_original": False, "tuned_cv": 0.9902}
CLEAN = dict(leaderboard=board("Accuracy", ("lr", 0.81), ("rf", 0.78)), metrics={"Accuracy": 0.8})

CASES = [
    # Run explanation: the ceiling, tuning, stability, and agreement with the review.
    explain(
        "a perfect CV score on an easy target (penguins)",
        recorded(
            frames.penguins,
            "penguins.csv",
            "species",
            leaderboard=board("Accuracy", ("lr", 1.0), ("rf", 0.9917)),
            metrics={"Accuracy": 0.9904},
        ),
        suggests_tuning=False,
        says_stable=False,
        agrees_with_review=True,
        risks=[Has((PERFECT, "medium"))],
    ),
    explain(
        "a tune that lowered F1 kept the original",
        recorded(
            frames.customers,
            "churn.csv",
            "churn",
            plan={"kind": "tune", "model_id": "rf", "n_iter": 10, "optimize": "F1"},
            leaderboard=[TUNE_KEPT["original_row"]],
            leaderboard_sort="F1",
            metrics={"F1": 0.97},
            outcome={"tune": TUNE_KEPT},
        ),
        says_kept_original=True,
        suggests_tuning=False,
        agrees_with_review=True,
    ),
    explain(
        "a tune that helped",
        recorded(
            frames.customers,
            "churn.csv",
            "churn",
            plan={"kind": "tune", "model_id": "rf", "n_iter": 10, "optimize": "F1"},
            leaderboard=[TUNE_BETTER["tuned_row"] | {"F1": 0.9902}],
            leaderboard_sort="F1",
            metrics={"F1": 0.985},
            outcome={"tune": TUNE_BETTER},
        ),
        says_kept_original=False,
        suggests_tuning=False,
    ),
    explain(
        "an ordinary comparison: tune the winner",
        recorded(frames.customers, "churn.csv", "churn", **CLEAN),
        suggests_tuning=True,
        says_stable=True,
        agrees_with_review=True,
    ),
    explain(
        "holdout far below CV is not stable",
        recorded(
            frames.customers,
            "churn.csv",
            "churn",
            leaderboard=board("Accuracy", ("rf", 0.92), ("lr", 0.8)),
            metrics={"Accuracy": 0.78},
        ),
        says_stable=False,
        suggests_tuning=False,
        agrees_with_review=True,
        risks=[Has((GAP, "high"))],
    ),
    explain(
        "an AUC PyCaret could not compute is no score",
        recorded(
            frames.three_classes,
            "grades.csv",
            "grade",
            leaderboard=board("AUC", ("knn", 0.96), ("lr", 0.0), Accuracy=0.9),
            leaderboard_sort="AUC",
            metrics={"AUC": 0.0, "Accuracy": 0.9},
        ),
        risks=[Lacks(PERFECT), Lacks(GAP)],
        agrees_with_review=True,
    ),
    # Failure debugging: the category of known-bad runs, and the fix it suggests.
    Case(
        "a continuous target in a classification experiment",
        "failure_debugging",
        failed(frames.prices, "prices.csv", "price", {"kind": "compare"}),
        {"category": "CONFIG", "suggested_task": "regression", "suggested_target": "price"},
    ),
    Case(
        "a text target in a regression experiment",
        "failure_debugging",
        failed(
            frames.penguins,
            "penguins.csv",
            "species",
            {"kind": "compare"},
            task="regression",
            raw=True,
        ),
        {"category": "CONFIG", "suggested_task": "classification"},
    ),
    Case(
        "a target column that is not there",
        "failure_debugging",
        failed(frames.penguins, "penguins.csv", "Species", {"kind": "compare"}, raw=True),
        {"category": "DATA", "suggested_target": "species", "suggested_task": "classification"},
    ),
    Case(
        "an unknown model id",
        "failure_debugging",
        failed(frames.customers, "churn.csv", "churn", {"kind": "create", "model_id": "rff"}),
        {"category": "CONFIG", "suggested_model_id": "rf"},
    ),
    Case(
        "too few rows",
        "failure_debugging",
        failed(frames.mostly_unlabelled, "tiny.csv", "churn", {"kind": "compare"}),
        {"category": "DATA"},
    ),
    Case(
        "an old row: out of memory",
        "failure_debugging",
        old_failure("MemoryError: out of memory while fitting", "MemoryError"),
        {"category": "ENGINE"},
    ),
    Case(
        "an old row: NaN in the input",
        "failure_debugging",
        old_failure("ValueError: Input contains NaN", "ValueError"),
        {"category": "DATA"},
    ),
    # Deployment review: the verdict floor for known risks.
    review(
        "a feature that alone predicts the target (trained for real)",
        lambda env: env.trained_run(
            env.experiment(
                env.dataset(frames.customers(n=600, leak=True), "churn_leak.csv"),
                "churn",
                setup={"fold": 3, "session_id": 123},
            ),
            {"kind": "create", "model_id": "lr"},
        ),
        verdict=DO_NOT_DEPLOY,
        risks=[Has(("leakage suspect: cancellation_fee", "high"))],
    ),
    review(
        "a perfect CV score with a leak behind it",
        recorded(
            lambda: frames.customers(n=2000, leak=True),
            "churn_leak.csv",
            "churn",
            leaderboard=board("Accuracy", ("dt", 1.0), ("lr", 0.99)),
            metrics={"Accuracy": 1.0},
        ),
        verdict=DO_NOT_DEPLOY,
        risks=[Has((PERFECT, "high"))],
    ),
    review(
        "a perfect CV score on an easy target",
        recorded(
            lambda: frames.penguins(2000),
            "penguins.csv",
            "species",
            leaderboard=board("Accuracy", ("lr", 1.0), ("rf", 0.99)),
            metrics={"Accuracy": 0.998},
        ),
        verdict=CAVEATS,
        risks=[Has((PERFECT, "medium"))],
    ),
    review(
        "a row number among the features",
        recorded(lambda: frames.customers(n=2000, row_number=True), "rows.csv", "churn", **CLEAN),
        verdict=CAVEATS,
        risks=[Has(("ID-like feature in the model", "medium"))],
    ),
    review(
        "nothing to object to",
        recorded(lambda: frames.customers(n=2000), "churn.csv", "churn", **CLEAN),
        verdict=APPROVE,
    ),
    review(
        "holdout far below CV",
        recorded(
            lambda: frames.customers(n=2000),
            "churn.csv",
            "churn",
            leaderboard=board("Accuracy", ("rf", 0.95), ("lr", 0.8)),
            metrics={"Accuracy": 0.8},
        ),
        verdict=DO_NOT_DEPLOY,
        risks=[Has((GAP, "high"))],
    ),
    review(
        "an imbalanced target ranked by Accuracy",
        recorded(lambda: frames.customers(n=2000, minority=0.1), "rare.csv", "churn", **CLEAN),
        verdict=CAVEATS,
        risks=[Has(("sort metric does not fit an imbalanced target", "medium"))],
    ),
    review(
        "trained with another PyCaret",
        recorded(
            lambda: frames.customers(n=2000),
            "churn.csv",
            "churn",
            environment={"pycaret": "3.2.0", "sklearn": "1.4.2", "pandas": "2.1.4"},
            **CLEAN,
        ),
        verdict=DO_NOT_DEPLOY,
        risks=[Has(("version skew: pycaret", "high"))],
    ),
    review(
        "missing values and categories with preprocessing off",
        recorded(
            lambda: frames.penguins(2000),
            "penguins.csv",
            "species",
            preprocessing={"Preprocess": False, "Transformed train set shape": [1400, 7]},
            **CLEAN,
        ),
        verdict=DO_NOT_DEPLOY,
        risks=[
            Has(("no imputer for missing values", "high")),
            Has("no encoder for categorical features"),
        ],
    ),
    review(
        "a win within CV noise",
        recorded(
            lambda: frames.customers(n=2000),
            "churn.csv",
            "churn",
            leaderboard=board("Accuracy", ("lr", 0.861), ("rf", 0.859)),
            metrics={"Accuracy": 0.86},
        ),
        verdict=APPROVE,
        risks=[Has(("tiny margin over the runner-up", "low"))],
    ),
    review(
        "32 rows (statsmodels spector)",
        recorded(
            lambda: frames.statsmodels_frame("spector"),
            "spector.csv",
            "GRADE",
            leaderboard=board("Accuracy", ("lr", 0.75), ("rf", 0.7)),
            metrics={"Accuracy": 0.7},
        ),
        verdict=DO_NOT_DEPLOY,
        risks=[Has(("small training sample", "high"))],
    ),
    review(
        "no environment and no preprocessing summary recorded",
        recorded(
            lambda: frames.penguins(2000),
            "penguins.csv",
            "species",
            environment={},
            preprocessing={"Transformed train set shape": [1400, 7]},
            **CLEAN,
        ),
        verdict=APPROVE,
        risks=[Has(("training environment unknown", "low")), Has(("imputation unknown", "low"))],
    ),
    review(
        "no preprocessing summary at all",
        recorded(
            lambda: frames.penguins(2000), "penguins.csv", "species", preprocessing={}, **CLEAN
        ),
        verdict=APPROVE,
        risks=[Has(("preprocessing unknown", "low"))],
    ),
    # Drift analysis: the decision for a known shift.
    Case(
        "every input moved",
        "drift_analysis",
        drifting(["tenure", "monthly_charges", "support_calls"], 3.0),
        {"decision": "retrain"},
    ),
    Case(
        "one input moved",
        "drift_analysis",
        drifting(["monthly_charges"], 3.0),
        {"decision": "watch", "risks": [Has("drift: monthly_charges"), Lacks("drift: tenure")]},
    ),
    Case("nothing moved", "drift_analysis", drifting([], 0.0), {"decision": "no action"}),
    Case(
        "too few predictions yet",
        "drift_analysis",
        drifting([], 0.0, n_samples=10),
        {"decision": "no report"},
    ),
]
