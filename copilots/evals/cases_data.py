"""Evaluation cases for the copilots that read a dataset: dataset analysis (target, task,
imbalance, leakage, ID-like, date and near-constant columns) and experiment design."""

from __future__ import annotations

from copilots.evals import frames
from copilots.evals.harness import Case, Has, Lacks

IMBALANCE = "class imbalance"


def dataset(frame_fn, name: str, **kw):
    """A build step: upload the frame, consult on the dataset."""

    def build(env):
        return env.dataset(frame_fn(), name), kw

    return build


def analysis(name: str, frame_fn, filename: str, **expected) -> Case:
    return Case(name, "dataset_analysis", dataset(frame_fn, filename), expected)


def design(name: str, frame_fn, filename: str, goal: str | None = None, **expected) -> Case:
    kw = {"goal": goal} if goal else {}
    return Case(name, "experiment_design", dataset(frame_fn, filename, **kw), expected)


CASES = [
    # The target and the task, on data shipped with scikit-learn and statsmodels.
    analysis(
        "penguins: species, not year",
        frames.penguins,
        "penguins.csv",
        target="species",
        task="classification",
        risks=[Lacks(IMBALANCE)],
    ),
    analysis(
        "sklearn iris",
        lambda: frames.sklearn_frame("iris"),
        "iris.csv",
        target="target",
        task="classification",
        risks=[Lacks(IMBALANCE)],
    ),
    analysis(
        "sklearn wine (59/71/48)",
        lambda: frames.sklearn_frame("wine"),
        "wine.csv",
        target="target",
        task="classification",
        risks=[Lacks(IMBALANCE)],
    ),
    analysis(
        "sklearn breast_cancer (37% malignant)",
        lambda: frames.sklearn_frame("breast_cancer"),
        "breast_cancer.csv",
        target="target",
        task="classification",
        risks=[Lacks(IMBALANCE)],
    ),
    analysis(
        "sklearn diabetes",
        lambda: frames.sklearn_frame("diabetes"),
        "diabetes.csv",
        target="target",
        task="regression",
    ),
    analysis(
        "sklearn digits: constant pixels",
        lambda: frames.sklearn_frame("digits"),
        "digits.csv",
        target="target",
        task="classification",
        risks=[Has("constant columns"), Lacks(IMBALANCE)],
    ),
    analysis(
        "statsmodels spector: GRADE",
        lambda: frames.statsmodels_frame("spector"),
        "spector.csv",
        target="GRADE",
        task="classification",
    ),
    analysis(
        "statsmodels fair: affairs",
        lambda: frames.statsmodels_frame("fair"),
        "fair.csv",
        target="affairs",
        task="regression",
    ),
    analysis(
        "statsmodels longley: TOTEMP, not YEAR",
        lambda: frames.statsmodels_frame("longley"),
        "longley.csv",
        target="TOTEMP",
        task="regression",
    ),
    analysis(
        "statsmodels stackloss: named after the dataset",
        lambda: frames.statsmodels_frame("stackloss"),
        "stackloss.csv",
        target="STACKLOSS",
        task="regression",
    ),
    analysis(
        "Smarket-like: Direction, and Today leaks it",
        frames.smarket,
        "smarket.csv",
        target="Direction",
        task="classification",
        risks=[Has(("leakage suspect: Today", "high")), Lacks("leakage suspect: Lag1")],
    ),
    analysis(
        "Carseats-like: Sales first, not Price",
        frames.carseats,
        "carseats.csv",
        target="Sales",
        task="regression",
    ),
    analysis(
        "OJ-like: Purchase first",
        frames.orange_juice,
        "oj.csv",
        target="Purchase",
        task="classification",
    ),
    # Generated frames, one known property each.
    analysis(
        "a column that alone predicts churn",
        lambda: frames.customers(leak=True),
        "churn_leak.csv",
        target="churn",
        risks=[
            Has(("leakage suspect: cancellation_fee", "high")),
            Lacks("leakage suspect: tenure"),
        ],
    ),
    analysis(
        "a 3% minority class",
        lambda: frames.customers(minority=0.03),
        "churn_rare.csv",
        target="churn",
        risks=[Has((IMBALANCE, "high"))],
    ),
    analysis(
        "44/36/20 three classes are balanced",
        frames.three_classes,
        "grades.csv",
        target="grade",
        task="classification",
        risks=[Lacks(IMBALANCE)],
    ),
    analysis(
        "50/38/12 three classes are imbalanced",
        lambda: frames.three_classes(shares=(0.50, 0.38, 0.12)),
        "grades_skewed.csv",
        target="grade",
        risks=[Has((IMBALANCE, "medium"))],
    ),
    analysis(
        "a date column is no target",
        lambda: frames.customers(date=True),
        "churn_dates.csv",
        target="churn",
        risks=[Has("date columns")],
    ),
    analysis(
        "a row-number column first",
        lambda: frames.customers(row_number=True),
        "churn_rows.csv",
        target="churn",
        risks=[Has(("ID-like columns", "medium"))],
    ),
    analysis(
        "a near-constant column",
        lambda: frames.customers(near_constant=True),
        "churn_status.csv",
        target="churn",
        risks=[Has("near-constant columns")],
    ),
    # Experiment design: the settings it would apply.
    design(
        "penguins: classification of species, fix_imbalance off",
        frames.penguins,
        "penguins.csv",
        task="classification",
        target="species",
        fix_imbalance=False,
    ),
    design(
        "3% minority: fix_imbalance on, ranked by F1",
        lambda: frames.customers(minority=0.03),
        "churn_rare.csv",
        target="churn",
        fix_imbalance=True,
        sort="F1",
    ),
    design(
        "balanced three classes: fix_imbalance off",
        frames.three_classes,
        "grades.csv",
        target="grade",
        fix_imbalance=False,
        sort="Accuracy",
    ),
    design(
        "the leaking column is ignored",
        lambda: frames.customers(leak=True),
        "churn_leak.csv",
        target="churn",
        ignore_features=[Has("cancellation_fee"), Lacks("tenure")],
    ),
    design(
        "the row number is ignored",
        lambda: frames.customers(row_number=True),
        "churn_rows.csv",
        ignore_features=[Has("rownames")],
    ),
    design(
        "sklearn diabetes: regression ranked by R2",
        lambda: frames.sklearn_frame("diabetes"),
        "diabetes.csv",
        task="regression",
        target="target",
        sort="R2",
    ),
    design(
        "a goal that favours recall",
        frames.customers,
        "churn.csv",
        goal="predict churn; favour recall",
        target="churn",
        sort="Recall",
    ),
]
