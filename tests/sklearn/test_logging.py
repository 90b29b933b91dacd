from __future__ import annotations

import re
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


@pytest.mark.usefixtures("autolog")
def test_model_files_are_given_away_before_the_logged_model_is_made(
    monkeypatch: pytest.MonkeyPatch, client: Any
) -> None:
    # A SQL store takes the id chosen here: the helper writes the files, which
    # name it, while the record is made, and the run's end waits for less.
    import yaml

    import mltrail
    from mltrail.models import _log
    from mltrail.sklearn.shared import _background

    order: list[tuple[str, str]] = []
    submit, start = _background.submit, _log.start_logged_model

    def recording_submit(run_id: str, job: Any, **kwargs: Any) -> None:
        if kwargs.get("name") == "model" and kwargs.get("finish") is not None:
            order.append(("files", job.args[5]["model_id"]))
        submit(run_id, job, **kwargs)

    def recording_start(**kwargs: Any) -> Any:
        order.append(("record", kwargs["model_id"]))
        return start(**kwargs)

    monkeypatch.setattr(_background, "submit", recording_submit)
    monkeypatch.setattr(_log, "start_logged_model", recording_start)
    with mltrail.start_run() as run:
        RandomForestClassifier(n_estimators=3, random_state=0).fit(X, Y)

    model_id = order[0][1]
    assert order == [("files", model_id), ("record", model_id)]
    assert re.fullmatch(r"m-[0-9a-f]{32}", model_id)
    logged = client._store.get_logged_model(model_id)
    assert (logged.status, logged.source_run_id) == ("READY", run.info.run_id)
    mlmodel = client.download_artifacts(run.info.run_id, "model/MLmodel")
    with open(mlmodel, encoding="utf-8") as file:
        assert yaml.safe_load(file)["model_id"] == model_id


def test_a_server_s_logged_model_is_made_before_its_files(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A server chooses the id, which the files name: the record comes first.
    from types import SimpleNamespace

    from mltrail._worker import RunArtifacts
    from mltrail.models import _log
    from mltrail.sklearn.recorders import _logging
    from mltrail.sklearn.shared import _background, _state
    from mltrail.store._rest import RestStore

    order: list[tuple[str, str | None]] = []
    store = RestStore("http://127.0.0.1:9")  # never called: the record is faked
    assert _log.choose_model_id(SimpleNamespace(_store=store)) is None

    def fake_start(**kwargs: Any) -> Any:
        order.append(("record", kwargs["model_id"]))
        options = _log.file_options("r" * 32, "model", "m-" + "0" * 32)
        return _log.LoggedModelStart(
            "m-" + "0" * 32, "r" * 32, "model", {}, {}, None, options
        )

    def recording_submit(run_id: str, job: Any, **kwargs: Any) -> None:
        order.append(("files", job.args[5].get("model_id")))

    monkeypatch.setattr(
        _background, "client_of", lambda run_id: SimpleNamespace(_store=store)
    )
    monkeypatch.setattr(_background, "submit", recording_submit)
    monkeypatch.setattr(_log, "start_logged_model", fake_start)
    _logging._queue_model_task(
        "r" * 32,
        _state.AutologSettings(),
        RunArtifacts("/nowhere"),
        LinearRegression().fit(X, Y),
        None,
        None,
    )

    assert order == [("record", None), ("files", "m-" + "0" * 32)]
