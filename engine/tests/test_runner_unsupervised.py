"""Clustering and anomaly detection in the runner, against bare PyCaret on the same data."""

import pandas as pd
import pytest

from engine.metrics import task_metrics
from engine.runner import ListSink, RunFailure, execute_plan
from engine.tests.factories import iris_features_frame, pycaret_experiment

pytestmark = pytest.mark.filterwarnings("ignore")

SESSION_ID = 123
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SUPERVISED_ONLY_METRICS = {"Homogeneity", "Rand Index", "Completeness"}


def run(tmp_path_factory, *, task, plan, options=None, data=None, target=None):
    sink = ListSink()
    work_dir = tmp_path_factory.mktemp(task)
    result = execute_plan(
        plan=plan,
        data=iris_features_frame() if data is None else data,
        task=task,
        target=target,
        setup_options={"session_id": SESSION_ID} if options is None else options,
        work_dir=work_dir,
        sink=sink,
    )
    return result, sink, work_dir


def fail(tmp_path_factory, **kwargs) -> RunFailure:
    with pytest.raises(RunFailure) as info:
        run(tmp_path_factory, **kwargs)
    return info.value


def bare(task: str, **create_kwargs):
    exp = pycaret_experiment(task)
    exp.setup(
        iris_features_frame(), session_id=SESSION_ID, verbose=False, html=False, system_log=False
    )
    model = exp.create_model(verbose=False, **create_kwargs)
    return exp, model


@pytest.fixture(scope="module")
def kmeans_run(tmp_path_factory):
    plan = {"kind": "create", "model_id": "kmeans", "num_clusters": 3, "plots": ["tsne"]}
    return run(tmp_path_factory, task="clustering", plan=plan)


@pytest.fixture(scope="module")
def bare_kmeans():
    exp, model = bare("clustering", estimator="kmeans", num_clusters=3)
    return exp.pull(), exp.assign_model(model, verbose=False)


@pytest.fixture(scope="module")
def iforest_run(tmp_path_factory):
    plan = {"kind": "create", "model_id": "iforest", "fraction": 0.05}
    return run(tmp_path_factory, task="anomaly", plan=plan)


# -- clustering ---------------------------------------------------------------------------------


def test_clustering_leaderboard_equals_bare_pycaret_without_supervised_metrics(
    kmeans_run, bare_kmeans
):
    result, _, _ = kmeans_run
    table, _ = bare_kmeans
    [row] = result.leaderboard
    assert (row["model_id"], row["Model"]) == ("kmeans", "K-Means Clustering")
    assert list(row)[2:] == task_metrics("clustering")
    assert not SUPERVISED_ONLY_METRICS & set(row)
    for metric in task_metrics("clustering"):
        assert round(row[metric], 4) == round(float(table.iloc[0][metric]), 4), metric
    assert result.leaderboard_sort == "Silhouette"
    assert result.holdout_metrics == {k: v for k, v in row.items() if k != "model_id"}


def test_clustering_reports_the_cluster_sizes_pycaret_assigns(kmeans_run, bare_kmeans):
    result, sink, _ = kmeans_run
    _, assigned = bare_kmeans
    expected = assigned["Cluster"].value_counts()
    sizes = {c["label"]: c["rows"] for c in result.summary["clusters"]}
    assert sizes == {str(k): int(v) for k, v in expected.items()}
    assert [c["label"] for c in result.summary["clusters"]] == [
        "Cluster 0",
        "Cluster 1",
        "Cluster 2",
    ]
    assert result.summary["rows"] == 150
    assert result.summary["can_predict"] is True
    assert sink.find("model summary")[0]["data"]["summary"] == result.summary


def test_clustering_plots_are_pngs_and_tsne_only_on_request(kmeans_run, tmp_path_factory):
    result, _, work_dir = kmeans_run
    assert [p["name"] for p in result.plots] == ["elbow", "cluster", "distribution", "tsne"]
    for plot in result.plots:
        assert (work_dir / plot["filename"]).read_bytes().startswith(PNG_MAGIC), plot
    # without the request: no t-SNE
    plain, _, _ = run(
        tmp_path_factory, task="clustering", plan={"kind": "create", "model_id": "birch"}
    )
    assert "tsne" not in [p["name"] for p in plain.plots]


def test_clustering_pipeline_predicts_the_clusters_it_assigned(kmeans_run, bare_kmeans):
    result, _, work_dir = kmeans_run
    exp = pycaret_experiment("clustering")
    pipeline = exp.load_model(str(work_dir / "pipeline"), verbose=False)
    frame = iris_features_frame()
    predicted = exp.predict_model(pipeline, data=frame)["Cluster"]
    assert predicted.tolist() == bare_kmeans[1]["Cluster"].tolist()
    assert [f["name"] for f in result.feature_schema] == list(frame.columns)


def test_a_clustering_that_cannot_place_new_rows_says_so(tmp_path_factory):
    result, _, _ = run(
        tmp_path_factory,
        task="clustering",
        plan={"kind": "create", "model_id": "hclust", "num_clusters": 3},
    )
    assert result.summary["can_predict"] is False
    assert sum(c["rows"] for c in result.summary["clusters"]) == 150


@pytest.mark.parametrize(
    ("plan", "options", "message"),
    [
        ({"kind": "compare"}, None, "'compare' does not apply to clustering"),
        (
            {"kind": "create", "model_id": "dbscan", "num_clusters": 3},
            None,
            "num_clusters does not apply to 'dbscan'",
        ),
        (
            {"kind": "create", "model_id": "kmeans", "fraction": 0.1},
            None,
            "fraction only applies to anomaly detection",
        ),
        (
            {"kind": "create", "model_id": "kmeans", "plots": ["auc"]},
            None,
            "Unknown plot 'auc' for clustering",
        ),
        (
            {"kind": "create", "model_id": "kmeans", "params": {"n_clusters": 5}},
            None,
            "Set num_clusters in the plan",
        ),
        ({"kind": "create", "model_id": "kmean"}, None, "Closest valid ids: kmeans"),
        (
            {"kind": "create", "model_id": "kmeans", "num_clusters": 151},
            None,
            "num_clusters=151 is more than the dataset's 150 rows",
        ),
        ({"kind": "setup"}, {"train_size": 0.8}, "train_size does not apply to clustering"),
    ],
)
def test_clustering_refuses_what_it_cannot_do_as_config(tmp_path_factory, plan, options, message):
    failure = fail(tmp_path_factory, task="clustering", plan=plan, options=options)
    assert failure.category == "CONFIG"
    assert message in failure.message


def test_too_few_rows_is_a_data_failure(tmp_path_factory):
    failure = fail(
        tmp_path_factory,
        task="clustering",
        plan={"kind": "create", "model_id": "kmeans"},
        data=iris_features_frame().head(5),
    )
    assert failure.category == "DATA"
    assert "5 rows" in failure.message


def test_clustering_metrics_are_pycarets_without_ground_truth():
    exp, _ = bare("clustering", estimator="kmeans", num_clusters=3)
    table = exp.get_metrics()
    assert (
        task_metrics("clustering")
        == table.loc[~table["Needs Ground Truth"], "Display Name"].tolist()
    )


# -- anomaly detection --------------------------------------------------------------------------


def test_anomaly_run_flags_what_bare_pycaret_flags(iforest_run):
    result, _, _ = iforest_run
    exp, model = bare("anomaly", estimator="iforest", fraction=0.05)
    assigned = exp.assign_model(model, verbose=False)
    summary = result.summary
    assert summary["flagged"] == int(assigned["Anomaly"].sum()) > 0
    assert summary["rows"] == 150
    assert summary["fraction"] == 0.05
    flagged = assigned[assigned["Anomaly"] == 1].sort_values("Anomaly_Score", ascending=False)
    assert [t["row"] for t in summary["top"]] == [int(i) + 1 for i in flagged.index[:10]]
    assert [t["score"] for t in summary["top"]] == pytest.approx(
        flagged["Anomaly_Score"].head(10).tolist(), abs=1e-9
    )
    top = summary["top"][0]
    original = iris_features_frame().iloc[top["row"] - 1]
    assert top["values"] == pytest.approx(original.to_dict(), abs=1e-6)
    [row] = result.leaderboard
    assert (row["model_id"], row["Flagged"]) == ("iforest", summary["flagged"])


def test_anomaly_draws_no_plot_unless_asked(iforest_run, tmp_path_factory):
    result, _, _ = iforest_run
    assert result.plots == []
    asked, _, work_dir = run(
        tmp_path_factory,
        task="anomaly",
        plan={"kind": "create", "model_id": "histogram", "plots": ["tsne"]},
    )
    assert [p["name"] for p in asked.plots] == ["tsne"]
    assert (work_dir / "tsne.png").read_bytes().startswith(PNG_MAGIC)


def test_anomaly_pipeline_scores_new_rows_like_predict_model(iforest_run):
    _, _, work_dir = iforest_run
    exp = pycaret_experiment("anomaly")
    pipeline = exp.load_model(str(work_dir / "pipeline"), verbose=False)
    rows = pd.DataFrame(
        [
            {
                "sepal length (cm)": 9.0,
                "sepal width (cm)": 1.0,
                "petal length (cm)": 9.0,
                "petal width (cm)": 0.1,
            }
        ]
    )
    predicted = exp.predict_model(pipeline, data=rows)
    assert predicted["Anomaly"].tolist() == [1]


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        ({"kind": "tune", "model_id": "iforest"}, "'tune' does not apply to anomaly detection"),
        ({"kind": "create", "model_id": "iforest", "num_clusters": 3}, "num_clusters only"),
        (
            {"kind": "create", "model_id": "iforest", "params": {"contamination": 0.2}},
            "Set fraction in the plan",
        ),
    ],
)
def test_anomaly_refuses_what_it_cannot_do_as_config(tmp_path_factory, plan, message):
    failure = fail(tmp_path_factory, task="anomaly", plan=plan)
    assert failure.category == "CONFIG"
    assert message in failure.message
