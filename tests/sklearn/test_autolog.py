"""Tests of ``autolog()``'s options and their validation."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sklearn.datasets import load_iris
from sklearn.tree import DecisionTreeClassifier

from mltrail._entities import Run
from mltrail._errors import InvalidValueError, MltrailWarning
from mltrail.sklearn import _patch, _session, autolog

ListRuns = Callable[[], list[Run]]


@pytest.mark.parametrize("value", [-1, True], ids=["negative", "bool"])
def test_rejects_bad_max_tuning_runs(value: int) -> None:
    with pytest.raises(
        InvalidValueError, match="max_tuning_runs must be None or an int"
    ):
        autolog(max_tuning_runs=value)
    assert _session.settings is None
    assert _patch.patched_entries() == {}


def test_rejects_unknown_serialization_format() -> None:
    with pytest.raises(InvalidValueError, match="serialization_format must be one of"):
        autolog(serialization_format="joblib")
    assert _session.settings is None


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
        assert _session.settings is not None
        assert dict(_session.settings.extra_tags) == {}
    finally:
        autolog(disable=True)


def test_disable_turns_settings_off() -> None:
    autolog()
    autolog(disable=True)
    assert _session.settings is None
    assert _patch.patched_entries() == {}
