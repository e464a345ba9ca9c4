"""A classifier's label read off its predict_proba (one pass through the estimator instead of
predict and predict_proba): the labels are always predict()'s, ties and unknown estimators are
left to predict(), and the served answer still equals PyCaret's predict_model."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.discriminant_analysis import (
    LinearDiscriminantAnalysis,
    QuadraticDiscriminantAnalysis,
)
from sklearn.ensemble import (
    ExtraTreesClassifier,
    GradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.tree import DecisionTreeClassifier

from engine import serving, storage
from engine.serving.predict import PREDICT_IS_ARGMAX_OF_PROBA, predicted_classes
from engine.tests.factories import (
    as_records,
    assert_equal_to_predict_model,
    sample_rows,
    trained,
)

pytestmark = pytest.mark.filterwarnings("ignore")


class CountingPredict:
    """Stands in for an estimator's bound predict and counts the rows it is asked about."""

    def __init__(self, predict):
        self.predict, self.rows = predict, []

    def __call__(self, X):
        self.rows.append(len(X))
        return self.predict(X)


@pytest.fixture(autouse=True)
def _empty_cache():
    serving.cache_clear()
    yield
    serving.cache_clear()


@pytest.mark.parametrize("kind", ["classifier", "labels"])
def test_the_served_labels_skip_predict_and_equal_predict_model(kind, monkeypatch):
    result, work_dir, _ = trained(kind)
    name = storage.save_file(f"runs/0/{kind}.pkl", work_dir / result.artifact_filename)
    loaded = serving.load_pipeline(name=name, sha256=result.artifact_sha256)
    rows = sample_rows(kind, n=40)
    prepared = serving.prepare_rows(as_records(rows), result.feature_schema, max_rows=100)
    transformed = loaded.transform(serving.shrink_dtypes(prepared.frame[loaded.columns]))
    expected = loaded.estimator.predict(transformed)
    counting = CountingPredict(loaded.estimator.predict)
    monkeypatch.setattr(loaded.estimator, "predict", counting)
    predictions = serving.predict(loaded, prepared.frame, task="classification")
    assert counting.rows == []  # one pass: predict_proba only
    assert_equal_to_predict_model(kind, rows, predictions)
    proba = loaded.estimator.predict_proba(transformed)
    assert list(predicted_classes(loaded.estimator, transformed, proba)) == list(expected)


def _fitted(estimator, data):
    X, y = data(return_X_y=True)
    return estimator.fit(X, y), X


ESTIMATORS = [
    LogisticRegression(max_iter=5000),
    DecisionTreeClassifier(random_state=0),
    RandomForestClassifier(n_estimators=20, random_state=0),
    ExtraTreesClassifier(n_estimators=20, random_state=0),
    GradientBoostingClassifier(n_estimators=20, random_state=0),
    GaussianNB(),
    LinearDiscriminantAnalysis(),
    QuadraticDiscriminantAnalysis(),
    KNeighborsClassifier(),
]


@pytest.mark.parametrize("data", [load_iris, load_breast_cancer], ids=["3 classes", "2 classes"])
@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_every_listed_estimator_gets_predicts_own_labels(estimator, data):
    kind = type(estimator)
    assert f"{kind.__module__}.{kind.__qualname__}" in PREDICT_IS_ARGMAX_OF_PROBA
    fitted, X = _fitted(estimator, data)
    labels = predicted_classes(fitted, X, fitted.predict_proba(X))
    assert np.array_equal(labels, fitted.predict(X))


def test_a_tied_row_is_left_to_predict(monkeypatch):
    fitted, X = _fitted(LogisticRegression(max_iter=5000), load_breast_cancer)
    proba = fitted.predict_proba(X)
    proba[3] = [0.5, 0.5]  # expit of a tiny positive decision rounds to exactly this
    proba[7] = [np.nan, np.nan]
    counting = CountingPredict(fitted.predict)
    monkeypatch.setattr(fitted, "predict", counting)
    labels = predicted_classes(fitted, X, proba)
    assert counting.rows == [2]  # rows 3 and 7 only
    assert labels[3] == counting.predict(X[3:4])[0] and labels[7] == counting.predict(X[7:8])[0]


def test_an_estimator_not_listed_is_asked_with_predict(monkeypatch):
    class OwnRules(LogisticRegression):  # a subclass may decide differently
        pass

    fitted, X = _fitted(OwnRules(max_iter=5000), load_iris)
    counting = CountingPredict(fitted.predict)
    monkeypatch.setattr(fitted, "predict", counting)
    labels = predicted_classes(fitted, X, fitted.predict_proba(X))
    assert counting.rows == [len(X)]
    assert np.array_equal(labels, counting.predict(X))
