from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mltrail.models import infer_signature
from mltrail.sklearn.shared._model import _output_for_signature

X, Y = load_iris(return_X_y=True, as_frame=True)
LABELS = {
    "int": Y.to_numpy(),
    "str": np.array(["setosa", "versicolor", "virginica"])[Y],
    "bool": Y.to_numpy() == 1,
    "float": Y.to_numpy().astype(np.float64),
}


@pytest.mark.parametrize("labels", list(LABELS), ids=list(LABELS))
@pytest.mark.parametrize(
    "make",
    [
        lambda: RandomForestClassifier(n_estimators=3, random_state=0),
        lambda: make_pipeline(StandardScaler(), LogisticRegression()),
        lambda: KNeighborsClassifier(),
    ],
    ids=["forest", "pipeline", "neighbors"],
)
def test_classifier_output_signature_equals_the_predicted_one(
    make: Any, labels: str
) -> None:
    model = make().fit(X, LABELS[labels])
    example = X.head(5)

    derived = infer_signature(example, _output_for_signature(model, example))
    predicted = infer_signature(example, model.predict(example))

    assert derived.to_dict() == predicted.to_dict()


def test_regressor_output_comes_from_predict() -> None:
    model = LinearRegression().fit(X, Y)

    output = _output_for_signature(model, X.head(3))

    np.testing.assert_array_equal(output, model.predict(X.head(3)))


def test_transformer_output_comes_from_transform() -> None:
    model = StandardScaler().fit(X)

    output = _output_for_signature(model, X.head(3))

    np.testing.assert_array_equal(output, model.transform(X.head(3)))


@pytest.mark.usefixtures("autolog")
def test_model_is_handed_over_at_once_and_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The helper saves the model, a run's longest file, while the script goes on:
    # the job that hands it over neither waits for the run's end nor behind the
    # jobs queued before it.
    import mltrail
    from mltrail.evaluation._render import PlotRenderer
    from mltrail.sklearn.shared import _background

    monkeypatch.setattr(_background.renderer(), "_start_delay", 30.0)
    started: list[tuple[str, str]] = []
    run_job = PlotRenderer._run

    def recording_run(self: PlotRenderer, run_id: str, label: str, job: Any) -> None:
        started.append((run_id, label))
        run_job(self, run_id, label, job)

    monkeypatch.setattr(PlotRenderer, "_run", recording_run)
    with mltrail.start_run() as run:
        make_pipeline(StandardScaler(), LogisticRegression()).fit(X, Y)

        def labels() -> list[str]:
            return [label for run_id, label in started if run_id == run.info.run_id]

        for _ in range(1000):  # the run is still open, the other jobs held back
            if labels():
                break
            time.sleep(0.01)
        assert labels() == ["model"]

    assert labels()[0] == "model"
    assert {"pipeline", "training plots"} <= set(labels()[1:])
