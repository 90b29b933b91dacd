"""The scoring server's parts on their own: parsing, JSON, profiles, metrics, serve."""

from __future__ import annotations

import gc
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mltrail._entities import Dataset, DatasetInput, InputTag, Run, RunInfo, RunInputs
from mltrail._errors import InvalidValueError
from mltrail.models._enforce import enforce_schema
from mltrail.models._signature import ColSpec, Schema, TensorSpec
from mltrail.serving import _parsing, _serve
from mltrail.serving._app import jsonable
from mltrail.serving._metrics import ServingMetrics
from mltrail.serving._model import ServedModel, load_served_model
from mltrail.serving._parsing import ScoringError, coerce_columns, parse_request
from mltrail.serving._profile import TrainingProfile, profile_of_run
from tests.serving.conftest import Trained, scoring_client

JSON = "application/json"
SCHEMA = Schema((ColSpec("long", "n"), ColSpec("string", "s"), ColSpec("double", "x")))


@pytest.mark.parametrize(
    ("body", "content_type", "match"),
    [
        (
            b'{"dataframe_split": {"columns": ["a"], "data": [[1, 2]]}}',
            JSON,
            "not a table",
        ),
        (b'{"inputs": {"a": [1, 2], "b": [1]}}', JSON, "equal lengths"),
        (b'{"instances": [[1, 2], [1]]}', JSON, "same length"),
        (b'{"dataframe_split": [1]}', JSON, "must be an object with 'data'"),
        (b"", "text/csv", "Failed to parse input as a Pandas DataFrame"),
        (b"not parquet", "application/vnd.apache.parquet", "from Parquet"),
    ],
    ids=["split", "inputs", "instances", "split-list", "csv", "parquet"],
)
def test_unparsable_bodies_are_400s(body: bytes, content_type: str, match: str) -> None:
    with pytest.raises(ScoringError, match=match) as error:
        parse_request(body, content_type, None)
    assert error.value.status == 400


def test_lists_of_rows_get_the_signature_names() -> None:
    parsed = parse_request(b'{"instances": [[1, "a", 0.5]]}', JSON, SCHEMA)
    assert list(parsed.data.columns) == ["n", "s", "x"]
    records = parse_request(b'{"inputs": [{"n": 1, "s": "a", "x": 1}]}', JSON, SCHEMA)
    assert records.rows == 1
    scalar = parse_request(b'{"inputs": 3}', JSON, None)
    assert scalar.rows == 1


def test_csv_keeps_text_columns_as_text() -> None:
    parsed = parse_request(b"n,s,x\n1,007,2.5\n", "text/csv", SCHEMA)
    assert parsed.data["s"].tolist() == ["007"]


def test_integers_out_of_range_are_refused() -> None:
    frame = pd.DataFrame({"n": [1e19]})
    with pytest.raises(ScoringError, match="outside the range of 'long'"):
        coerce_columns(frame, SCHEMA)
    missing = pd.DataFrame({"n": [None, 1]}, dtype=object)
    with pytest.raises(ScoringError, match="a missing value"):
        coerce_columns(missing, SCHEMA)
    coerce_columns(np.zeros((1, 3)), SCHEMA)  # arrays are left to the signature
    tensor = Schema((TensorSpec("float64", (-1, 3)),))
    coerce_columns(pd.DataFrame({"n": [1.5]}), tensor)


def test_predictions_become_mlflows_json() -> None:
    assert jsonable(pd.DataFrame({"a": [1, 2]})) == [{"a": 1}, {"a": 2}]
    assert jsonable(pd.Series([1.5], name="p")) == [{"p": 1.5}]
    assert jsonable(np.array([1.0, np.nan, np.inf])) == [1.0, None, None]
    assert jsonable(np.int64(3)) == 3
    assert jsonable([1]) == [1]


def _run(*inputs: DatasetInput) -> Run:
    info = RunInfo("a" * 32, "r", "0", "ada", "FINISHED", 1, 2, "uri", "active")
    return Run(info, inputs=RunInputs(list(inputs)))


def _input(profile: str | None, context: str = "train") -> DatasetInput:
    dataset = Dataset("train", "d", "code", "{}", profile=profile)
    return DatasetInput(dataset, [InputTag("mlflow.data.context", context)])


def test_profiles_come_from_the_training_input_only() -> None:
    columns = json.dumps(
        {"columns": [{"name": "0", "null_count": 0, "min": 0, "max": 1}]}
    )
    assert profile_of_run(_run()) is None
    assert profile_of_run(_run(_input(columns, "test"))) is None
    assert profile_of_run(_run(_input("not json"))) is None
    assert profile_of_run(_run(_input(json.dumps([1])))) is None
    profile = profile_of_run(_run(_input(columns)))
    assert profile is not None
    found = profile.check(np.array([[0.5], [3.0], [np.nan]]))
    assert sorted(f.kind for f in found) == ["missing_values", "out_of_range"]
    assert profile.check(np.array([0.5])) == []
    assert profile.check("not data") == []


def test_a_one_sided_range_is_checked() -> None:
    profile = TrainingProfile([{"name": "x", "null_count": 0, "min": 0}])
    found = profile.check(pd.DataFrame({"x": [-1.0, 5.0]}))
    assert [f.count for f in found] == [1]
    assert "outside the train range." in found[0].message
    empty = profile.check(pd.DataFrame({"x": [np.nan]}))
    assert [f.kind for f in empty] == ["missing_values"]


def test_metrics_sum_over_workers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    metrics = ServingMetrics()
    assert metrics.multiprocess
    assert isinstance(metrics.render(), bytes)


class _Failing:
    """A model whose predict fails in ways the server must not leak."""

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def predict(self, data: Any, params: Any = None) -> Any:
        raise self.error


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (RuntimeError("/srv/secret/path broke"), 500, "INTERNAL_ERROR"),
        (KeyError("column"), 400, "BAD_REQUEST"),
        (ValueError(""), 400, "BAD_REQUEST"),
    ],
    ids=["unexpected", "key-error", "empty-message"],
)
def test_model_failures_never_leak(
    served_regressor: ServedModel, error: BaseException, status: int, code: str
) -> None:
    failing = replace(served_regressor, model=_Failing(error))  # type: ignore[arg-type]  # a stand-in model
    with scoring_client(failing) as client:
        response = client.post("/invocations", json={"inputs": [[0.0] * 10]})
    assert (response.status_code, response.json()["error_code"]) == (status, code)
    assert "/srv/secret" not in response.text


def test_large_requests_predict_off_the_event_loop(
    served_regressor: ServedModel, regressor: Trained
) -> None:
    X = pd.concat([regressor.X_test] * 3, ignore_index=True)
    with scoring_client(served_regressor) as client:
        response = client.post(
            "/invocations",
            json={"dataframe_split": json.loads(X.to_json(orient="split"))},
        )
    assert len(response.json()["predictions"]) == len(X)


def test_a_local_model_needs_no_store(regressor: Trained, tmp_path: Path) -> None:
    import mltrail

    mltrail.sklearn.save_model(
        regressor.estimator, tmp_path / "m", input_example=regressor.X_test
    )
    served = load_served_model(tmp_path / "m")
    assert (served.profile, served.run_id) == (None, None)
    assert not (tmp_path / "mltrail.db").exists()


def test_a_run_in_another_store_has_no_profile(
    regressor: Trained, tmp_path: Path
) -> None:
    from mltrail import TrackingClient

    client = TrackingClient(regressor.tracking_uri)
    version = client.get_model_version("diabetes", 1)
    served = load_served_model(
        f"runs:/{version.run_id}/model", tracking_uri=regressor.tracking_uri
    )
    assert served.profile is not None
    other = f"sqlite:///{tmp_path / 'other.db'}"
    directory = Path(client.get_run(version.run_id).info.artifact_uri) / "model"
    moved = load_served_model(directory, tracking_uri=other)
    assert moved.profile is None


@pytest.mark.parametrize(
    "uri", ["models:/churn@champion", "models:/churn/1", "run", "directory"]
)
def test_serving_reads_a_sqlite_store_as_the_store_does(
    classifier: Trained, uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mltrail import TrackingClient
    from mltrail.serving import _model

    client = TrackingClient(classifier.tracking_uri)
    run_id = client.get_model_version("churn", 1).run_id
    uri = {
        "run": f"runs:/{run_id}/model",
        "directory": str(Path(client.get_run(run_id).info.artifact_uri) / "model"),
    }.get(uri, uri)
    looked_up = _model._served_from_lookup(uri, classifier.tracking_uri, False)
    monkeypatch.setattr(_model, "_served_from_lookup", lambda *args: None)
    expected = load_served_model(uri, tracking_uri=classifier.tracking_uri)
    assert looked_up is not None
    assert (looked_up.uri, looked_up.run_id, looked_up.version) == (
        expected.uri,
        expected.run_id,
        expected.version,
    )
    assert looked_up.schema == expected.schema
    assert looked_up.profile is not None
    assert expected.profile is not None
    assert looked_up.profile.dataset == expected.profile.dataset
    assert looked_up.profile.columns == expected.profile.columns
    X = classifier.X_test.assign(age=classifier.X_test["age"] + 1000)
    assert looked_up.validate(X) == expected.validate(X) != []


def test_serving_a_sqlite_store_imports_no_sqlalchemy(classifier: Trained) -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from mltrail.serving._model import load_served_model\n"
        "load_served_model('models:/churn@champion', "
        f"tracking_uri={classifier.tracking_uri!r})\n"
        "print('sqlalchemy' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_serve_runs_uvicorn_with_the_options(
    regressor: Trained, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    options = _serve.ServeOptions(
        "models:/diabetes@champion", tracking_uri=regressor.tracking_uri, port=5999
    )
    forked: list[tuple[Any, Any]] = []
    monkeypatch.setattr(_serve, "run_forked", lambda app, o: forked.append((app, o)))
    _serve.serve(options)
    # Several workers are forked after the load where counts can be summed...
    monkeypatch.setattr(_serve, "_counts_per_process", lambda: True)
    _serve.serve(replace(options, workers=3))
    assert forked[0][0].state.scorer.model.version == "diabetes/1"
    assert forked[0][1].workers == 3
    # ... and spawned by uvicorn otherwise, each loading the model.
    monkeypatch.setattr(_serve, "_counts_per_process", lambda: False)
    _serve.serve(replace(options, workers=3))
    assert calls[0][1]["port"] == 5999
    assert calls[1][0] == "mltrail.serving._serve:app_from_environment"
    assert calls[1][1]["workers"] == 3
    try:
        app = _serve.app_from_environment()  # a spawned worker's: frozen
    finally:
        gc.unfreeze()  # this is pytest's process, not a worker's
    assert app.state.scorer.model.version == "diabetes/1"


def test_frozen_startup_freezes_what_the_start_made() -> None:
    gc.unfreeze()
    try:
        with _serve.frozen_startup():
            assert not gc.isenabled()
            made: list[dict[str, int]] = [{} for _ in range(1000)]
        assert gc.isenabled()
        assert gc.get_freeze_count() >= len(made)
    finally:
        gc.unfreeze()
    with _serve.frozen_startup(owns_process=False):
        assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_serve_freezes_its_start_only_in_a_process_of_its_own(
    regressor: Trained, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    served: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.append(app))
    options = _serve.ServeOptions(
        "models:/diabetes@champion", tracking_uri=regressor.tracking_uri
    )
    gc.unfreeze()
    try:
        _serve.serve(options)
        assert gc.get_freeze_count() == 0
        _serve.serve(options, owns_process=True)
        assert gc.get_freeze_count() > 0
        assert gc.isenabled()
    finally:
        gc.unfreeze()
    assert [app.state.scorer.model.version for app in served] == ["diabetes/1"] * 2


def test_batcher_concatenates_arrays_and_starts_new_batches_when_full() -> None:
    import asyncio

    from mltrail.serving._batching import MicroBatcher

    sizes: list[int] = []

    async def run() -> list[Any]:
        batcher = MicroBatcher(
            lambda data: data * 2,
            max_batch_size=3,
            max_delay=0.05,
            on_batch=sizes.append,
        )
        with pytest.raises(RuntimeError, match="start"):
            await batcher.submit(np.zeros((1, 1)), 1)
        await batcher.stop()  # not started: nothing to stop
        batcher.start()
        batcher.reading = 3
        results = await asyncio.gather(
            *(batcher.submit(np.full((2, 1), i), 2) for i in range(3))
        )
        await batcher.stop()
        return list(results)

    results = asyncio.run(run())
    assert [r.ravel().tolist() for r in results] == [[0, 0], [2, 2], [4, 4]]
    assert sum(sizes) == 6
    assert max(sizes) <= 3


def test_batcher_waits_for_the_clients_of_the_last_batch_only() -> None:
    import asyncio

    from mltrail.serving._batching import MicroBatcher

    sizes: list[int] = []
    expected: list[int] = []

    async def run() -> None:
        # A long delay: a batch that waited for nobody would hang the test.
        batcher = MicroBatcher(
            lambda data: data, max_batch_size=64, max_delay=30, on_batch=sizes.append
        )
        batcher.start()
        for i in range(3):  # a lone client: batches of one, never a wait
            await batcher.submit(np.full((1, 1), i), 1)
            expected.append(batcher._expected)

        async def client(i: int) -> None:
            await batcher.submit(np.full((1, 1), i), 1)
            # The next request comes a moment after the answer, at its own pace.
            await asyncio.sleep(0.01 * i)
            await batcher.submit(np.full((1, 1), i), 1)

        await asyncio.gather(*(client(i) for i in range(4)))
        await batcher.stop()

    asyncio.run(run())
    assert max(expected) == 1  # never more clients than the one
    # Four clients at once make one batch; their next requests, spread in time,
    # are awaited and make one batch again instead of four.
    assert sizes == [1, 1, 1, 4, 4]


@pytest.mark.parametrize(
    "body",
    [
        b'{"inputs": [1.5, NaN, Infinity]}',
        b'{"inputs": [123456789012345678901234567890]}',
        b'{"inputs": ["\\ud800"]}',
        b'{"inputs": [1e400, 0.1, -0.0]}',
        b'{"inputs": [-9223372036854775809, 9223372036854775807]}',
        b'{"inputs": [0.30000000000000004, 2.2250738585072014e-308, 5e-324]}',
        b'{"inputs": [1.00000000000000011102230246251565404236316680908203125]}',
        b'{"inputs": {"a": 1, "a": 2}}',
    ],
    ids=[
        "nan",
        "huge int",
        "lone surrogate",
        "overflow",
        "int64 edges",
        "float edges",
        "halfway",
        "duplicate keys",
    ],
)
def test_json_bodies_read_as_json_reads_them(body: bytes) -> None:
    assert repr(_parsing._loads(body)) == repr(json.loads(body))


@pytest.mark.parametrize(
    "content",
    [
        {"predictions": [0.1, 1e-05, 1e16, -0.0, 2**63 - 1, "é", None, True]},
        {"predictions": [2**70]},
        {"predictions": [[1.5, 2]], "warnings": [{"column": "a", "count": 1}]},
    ],
    ids=["values", "huge int", "nested"],
)
def test_answers_hold_the_values_json_writes(content: dict[str, Any]) -> None:
    from mltrail.serving._app import _dumps

    assert json.loads(_dumps(content)) == content


def test_nan_in_an_answer_is_refused_as_json_refuses_it() -> None:
    from mltrail.serving._app import _dumps

    with pytest.raises(ValueError, match="JSON compliant"):
        _dumps({"predictions": [1.0, float("nan")]})


DOUBLES = Schema((ColSpec("double", "a"), ColSpec("double", "b")))


@pytest.mark.parametrize(
    "split",
    [
        {"columns": ["a", "b"], "data": [[1.5, 2.0], [3.25, -4.0]]},
        {"columns": ["a", "b"], "data": [[1, 2.5], [3, 4]]},
        {"columns": ["b", "a"], "data": [[1.0, 2.0]]},
        {"columns": ["a", "b"], "data": [[True, 1.0]]},
        {"columns": ["a", "b"], "data": [[None, 1.0]]},
        {"columns": ["a", "b"], "data": [[2**60, 1.0]]},
        {"columns": ["a", "b"], "data": [[1.0, 2.0]], "index": [7]},
        {"columns": ["a", "c"], "data": [[1.0, 2.0]]},
        {"columns": ["a", "b"], "data": [[1.0, "x"]]},
    ],
    ids=[
        "floats",
        "ints",
        "order",
        "bool",
        "null",
        "huge int",
        "index",
        "unknown column",
        "text",
    ],
)
def test_split_of_numbers_reads_as_pandas_reads_it(
    split: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Numbers for double columns skip pandas' inference: the model must get what
    # the general path gives after the signature's cast, whatever the request.
    body = json.dumps({"dataframe_split": split}).encode()
    parsed = parse_request(body, JSON, DOUBLES).data
    monkeypatch.setattr(_parsing, "_numbers_frame", lambda value, schema: None)
    general = parse_request(body, JSON, DOUBLES).data
    try:
        expected = enforce_schema(general, DOUBLES)
    except InvalidValueError:
        expected = general  # refused by the signature either way
    else:
        parsed = enforce_schema(parsed, DOUBLES)
    pd.testing.assert_frame_equal(parsed, expected)
