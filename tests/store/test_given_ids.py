"""Creating experiments, runs and logged models under given ids (``mltrail import``)."""

from __future__ import annotations

import pytest

from mltrail._errors import ConflictError, InvalidValueError
from mltrail.store._sql import SqlStore


def test_experiment_takes_given_id_and_creation_time(store: SqlStore) -> None:
    experiment_id = store.create_experiment(
        "kept", experiment_id="42", creation_time=1_700_000_000_000
    )

    experiment = store.get_experiment(experiment_id)
    assert experiment_id == "42"
    assert experiment.creation_time == experiment.last_update_time == 1_700_000_000_000
    assert experiment.artifact_location.endswith("/42")


def test_experiment_after_given_id_gets_a_free_one(store: SqlStore) -> None:
    store.create_experiment("kept", experiment_id="42")

    assert store.create_experiment("next") == "43"


def test_experiment_with_taken_id_is_conflict(store: SqlStore) -> None:
    store.create_experiment("first", experiment_id="7")

    with pytest.raises(ConflictError, match="experiment id 7 is taken by 'first'"):
        store.create_experiment("second", experiment_id="7")
    assert store.get_experiment_by_name("second") is None


def test_experiment_id_beyond_32_bits_is_refused(store: SqlStore) -> None:
    with pytest.raises(InvalidValueError, match="at most 2147483647"):
        store.create_experiment("big", experiment_id="468604467188994839")


def test_run_takes_given_id(store: SqlStore) -> None:
    run = store.create_run(
        "0", user_id="ada", start_time=5, run_name="r", run_id="a" * 32
    )

    assert run.info.run_id == "a" * 32
    assert store.get_run("a" * 32).info.artifact_uri.endswith(f"/{'a' * 32}/artifacts")


def test_run_with_taken_id_is_conflict(store: SqlStore) -> None:
    store.create_run("0", user_id="ada", start_time=5, run_name="r", run_id="b" * 32)

    with pytest.raises(ConflictError):
        store.create_run(
            "0", user_id="ada", start_time=6, run_name="s", run_id="b" * 32
        )


def test_run_id_must_be_a_run_id(store: SqlStore) -> None:
    with pytest.raises(InvalidValueError, match="32 lowercase hex"):
        store.create_run("0", user_id="ada", start_time=5, run_name="r", run_id="x/y")


def test_logged_model_takes_given_id_and_creation_time(store: SqlStore) -> None:
    model = store.create_logged_model(
        "0", name="model", model_id="m-" + "c" * 32, creation_timestamp=123
    )

    read = store.get_logged_model("m-" + "c" * 32)
    assert model.model_id == read.model_id == "m-" + "c" * 32
    assert read.creation_timestamp == 123
    assert read.artifact_location.endswith(f"/models/m-{'c' * 32}/artifacts")


def test_logged_model_with_taken_id_is_conflict(store: SqlStore) -> None:
    store.create_logged_model("0", name="model", model_id="m-" + "d" * 32)

    with pytest.raises(ConflictError):
        store.create_logged_model("0", name="other", model_id="m-" + "d" * 32)


def test_logged_model_id_must_be_a_model_id(store: SqlStore) -> None:
    with pytest.raises(InvalidValueError, match="model_id"):
        store.create_logged_model("0", name="model", model_id="m-../../x")
