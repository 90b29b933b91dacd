"""Tests of ``autolog()``'s options and their validation."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sklearn.datasets import load_iris
from sklearn.tree import DecisionTreeClassifier

import mltrail
from mltrail._entities import Run
from mltrail._errors import InvalidValueError, MltrailWarning
from mltrail.sklearn import autolog
from mltrail.sklearn.patches import _patch
from mltrail.sklearn.shared import _state

ListRuns = Callable[[], list[Run]]


@pytest.mark.parametrize("value", [-1, True], ids=["negative", "bool"])
def test_rejects_bad_max_tuning_runs(value: int) -> None:
    with pytest.raises(
        InvalidValueError, match="max_tuning_runs must be None or an int"
    ):
        autolog(max_tuning_runs=value)
    assert _state.settings is None
    assert _patch.patched_entries() == {}


def test_rejects_unknown_serialization_format() -> None:
    with pytest.raises(InvalidValueError, match="serialization_format must be one of"):
        autolog(serialization_format="joblib")
    assert _state.settings is None


def test_reserved_extra_tag_is_dropped_with_a_warning(list_runs: ListRuns) -> None:
    with pytest.warns(MltrailWarning, match="reserved tag 'mlflow.autologging'"):
        autolog(extra_tags={"mlflow.autologging": "mine", "team": "risk"})
    try:
        DecisionTreeClassifier().fit(*load_iris(return_X_y=True))
    finally:
        autolog(disable=True)
    (run,) = list_runs()
    assert run.data.tags["mlflow.autologging"] == "sklearn"
    assert run.data.tags["team"] == "risk"


def test_reserved_extra_tag_is_dropped_silently_when_silent() -> None:
    autolog(extra_tags={"mlflow.autologging": "mine"}, silent=True)
    try:
        assert _state.settings is not None
        assert dict(_state.settings.extra_tags) == {}
    finally:
        autolog(disable=True)


def test_disable_turns_settings_off() -> None:
    autolog()
    autolog(disable=True)
    assert _state.settings is None
    assert _patch.patched_entries() == {}


# mlflow.sklearn.autolog's keywords in MLflow 3.17.2, in its order.
MLFLOW_KEYWORDS = [
    "log_input_examples",
    "log_model_signatures",
    "log_models",
    "log_datasets",
    "disable",
    "exclusive",
    "disable_for_unsupported_versions",
    "silent",
    "max_tuning_runs",
    "log_post_training_metrics",
    "serialization_format",
    "registered_model_name",
    "pos_label",
    "extra_tags",
]


def test_takes_every_mlflow_keyword_in_mlflows_order() -> None:
    import inspect

    parameters = list(inspect.signature(autolog).parameters.values())

    assert [p.name for p in parameters[: len(MLFLOW_KEYWORDS)]] == MLFLOW_KEYWORDS
    assert all(p.kind is p.POSITIONAL_OR_KEYWORD for p in parameters[:14])
    assert all(p.kind is p.KEYWORD_ONLY for p in parameters[14:])


@pytest.mark.slow
def test_mlflow_keywords_are_mlflows() -> None:
    import inspect

    from tests.models._mlflow import import_mlflow

    mlflow = import_mlflow()
    assert list(inspect.signature(mlflow.sklearn.autolog).parameters) == (
        MLFLOW_KEYWORDS
    )


def test_registered_model_name_registers_each_autologged_model(
    list_runs: ListRuns,
) -> None:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True)
    autolog(registered_model_name="iris", disable_for_unsupported_versions=True)
    try:
        LogisticRegression(max_iter=500).fit(X, y)
        LogisticRegression(max_iter=500, C=0.5).fit(X, y)
    finally:
        autolog(disable=True)

    runs = list_runs()
    client = mltrail.TrackingClient()
    versions = sorted(
        client.search_model_versions("name = 'iris'"), key=lambda v: int(v.version)
    )
    assert [v.run_id for v in versions] == [run.info.run_id for run in runs]
    loaded = mltrail.pyfunc.load_model("models:/iris/2")
    assert loaded.predict(X[:3]).tolist() == [0, 0, 0]


@pytest.mark.parametrize("value", ["", 3], ids=["empty", "int"])
def test_rejects_bad_registered_model_name(value: object) -> None:
    with pytest.raises(InvalidValueError, match="registered_model_name"):
        autolog(registered_model_name=value)  # type: ignore[arg-type]  # the attack
