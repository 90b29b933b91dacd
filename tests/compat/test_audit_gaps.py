"""MLflow scripts that used to fail or give other answers under ``import mltrail``."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

import mltrail
from mltrail.tracking import _fluent_search

FRAME = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [0.5, 0.1, 0.2, 0.9]})
LABELS = pd.Series([1.0, 2.0, 3.5, 4.0], name="y")


def _runs(count: int) -> str:
    experiment_id = mltrail.set_experiment("many").experiment_id
    client = mltrail.MlflowClient()
    for _ in range(count):
        client.create_run(experiment_id)
    return experiment_id


# search_runs


def test_search_runs_returns_more_than_a_thousand_runs_by_default() -> None:
    experiment_id = _runs(1001)
    assert len(mltrail.search_runs([experiment_id])) == 1001
    assert len(mltrail.search_runs([experiment_id], output_format="list")) == 1001


def test_search_runs_pages_through_the_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_fluent_search, "_PAGE_SIZE", 2)
    experiment_id = _runs(5)
    found = mltrail.search_runs([experiment_id], max_results=4, output_format="list")
    assert len(found) == 4
    assert len({run.info.run_id for run in found}) == 4
    assert len(mltrail.search_runs([experiment_id], output_format="list")) == 5


def test_search_runs_default_max_results_is_mlflows() -> None:
    assert _fluent_search.MAX_RESULTS == 100_000


def test_search_all_experiments_searches_every_active_experiment() -> None:
    for name in ("a", "b"):
        mltrail.set_experiment(name)
        with mltrail.start_run():
            pass
    assert len(mltrail.search_runs()) == 1
    assert len(mltrail.search_runs(search_all_experiments=True)) == 2


def test_search_all_experiments_leaves_given_ids_alone() -> None:
    first = mltrail.set_experiment("a").experiment_id
    with mltrail.start_run():
        pass
    mltrail.set_experiment("b")
    with mltrail.start_run():
        pass
    assert len(mltrail.search_runs([first], search_all_experiments=True)) == 1


# mltrail.artifacts


@pytest.fixture
def run_id() -> str:
    with mltrail.start_run() as run:
        mltrail.log_dict({"a": 1}, "config.json")
        mltrail.log_text("hello", "notes/deep/a.txt")
    return run.info.run_id


def test_artifacts_module_is_an_attribute_of_the_package() -> None:
    script = "import mltrail\nprint(mltrail.artifacts.load_dict.__module__)"
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "mltrail.artifacts"


def test_load_dict_reads_a_runs_uri(run_id: str) -> None:
    assert mltrail.artifacts.load_dict(f"runs:/{run_id}/config.json") == {"a": 1}


def test_load_text_reads_the_runs_artifact_uri(run_id: str) -> None:
    root = mltrail.get_run(run_id).info.artifact_uri
    assert mltrail.artifacts.load_text(f"{root}/notes/deep/a.txt") == "hello"


def test_load_dict_refuses_text_that_is_not_json(run_id: str) -> None:
    with pytest.raises(mltrail.MltrailError, match="not JSON"):
        mltrail.artifacts.load_dict(f"runs:/{run_id}/notes/deep/a.txt")


def test_load_text_of_a_missing_artifact_raises_not_found(run_id: str) -> None:
    with pytest.raises(mltrail.NotFoundError, match=r"nope\.txt"):
        mltrail.artifacts.load_text(f"runs:/{run_id}/nope.txt")


def test_download_artifacts_puts_the_file_under_its_name(
    run_id: str, tmp_path: Path
) -> None:
    from mltrail.artifacts import download_artifacts

    local = download_artifacts(
        run_id=run_id, artifact_path="notes/deep/a.txt", dst_path=tmp_path / "out"
    )
    assert Path(local) == (tmp_path / "out" / "a.txt").resolve()
    assert Path(local).read_text() == "hello"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.txt"]


def test_download_artifacts_of_a_run_copies_all_of_them(
    run_id: str, tmp_path: Path
) -> None:
    local = mltrail.artifacts.download_artifacts(run_id=run_id, dst_path="all")
    assert sorted(p.name for p in Path(local).iterdir()) == ["config.json", "notes"]


def test_download_artifacts_of_a_folder_uri(run_id: str) -> None:
    local = mltrail.artifacts.download_artifacts(f"runs:/{run_id}/notes/deep")
    assert Path(local).name == "deep"
    assert (Path(local) / "a.txt").read_text() == "hello"


@pytest.mark.parametrize(
    ("arguments", "match"),
    [
        ({}, "exactly one"),
        ({"artifact_uri": "runs:/x/a", "run_id": "x"}, "exactly one"),
        ({"artifact_uri": "runs:/x/a", "artifact_path": "a"}, "artifact_path"),
    ],
    ids=["neither", "both", "path-with-uri"],
)
def test_download_artifacts_refuses_bad_arguments(
    arguments: dict[str, str], match: str
) -> None:
    with pytest.raises(mltrail.InvalidValueError, match=match):
        mltrail.artifacts.download_artifacts(**arguments)


def test_list_artifacts_by_run_and_by_uri(run_id: str) -> None:
    from mltrail.artifacts import list_artifacts

    assert [f.path for f in list_artifacts(run_id=run_id)] == ["config.json", "notes"]
    by_uri = list_artifacts(f"runs:/{run_id}/notes/deep")
    assert [(f.path, f.file_size) for f in by_uri] == [("notes/deep/a.txt", 5)]
    root = mltrail.get_run(run_id).info.artifact_uri
    assert [f.path for f in list_artifacts(f"{root}/notes")] == ["notes/deep"]
    assert list_artifacts(f"runs:/{run_id}/missing") == []


def test_load_image_returns_a_pil_image() -> None:
    from PIL import Image

    with mltrail.start_run() as run:
        Image.new("RGB", (4, 3)).save("image.png")
        mltrail.log_artifact("image.png")
    image = mltrail.artifacts.load_image(f"runs:/{run.info.run_id}/image.png")
    assert isinstance(image, Image.Image)
    assert image.size == (4, 3)


# mltrail.models.signature and mltrail.types


def test_signature_module_has_mlflows_names() -> None:
    from mltrail.models.signature import ModelSignature, infer_signature

    assert isinstance(infer_signature(FRAME), ModelSignature)


def test_types_schema_module_builds_a_schema() -> None:
    from mltrail.types import DataType
    from mltrail.types.schema import ColSpec, Schema

    schema = Schema((ColSpec(DataType.double, "a"), ColSpec("long", "b")))
    assert schema == mltrail.models.infer_signature(FRAME.astype({"b": int})).inputs
    assert schema.to_dict()[0] == {"type": "double", "name": "a", "required": True}


def test_types_is_an_attribute_of_the_package() -> None:
    assert mltrail.types.TensorSpec is mltrail.models.TensorSpec


# dict input examples


@pytest.mark.parametrize(
    "example",
    [FRAME.iloc[0].to_dict(), FRAME.iloc[:2].to_dict(orient="list")],
    ids=["one-row-of-scalars", "columns-of-lists"],
)
def test_log_model_accepts_a_dict_input_example(example: dict[str, object]) -> None:
    estimator = LinearRegression().fit(FRAME, LABELS)
    with mltrail.start_run():
        info = mltrail.sklearn.log_model(estimator, name="model", input_example=example)
    assert info.signature is not None
    assert info.signature.inputs is not None
    assert [spec.name for spec in info.signature.inputs.inputs] == ["a", "b"]
    loaded = mltrail.models.Model.load(info.model_uri)
    assert list(loaded.load_input_example(info.model_uri).columns) == ["a", "b"]


def test_a_dict_of_scalars_is_one_row() -> None:
    from mltrail.models._example import example_as_data

    frame = example_as_data({"a": 1.0, "b": "x"})
    assert frame.to_dict(orient="list") == {"a": [1.0], "b": ["x"]}


# mlflow.runName


def test_set_tag_run_name_renames_the_run() -> None:
    with mltrail.start_run() as run:
        mltrail.set_tag("mlflow.runName", "my-run")
    assert mltrail.get_run(run.info.run_id).info.run_name == "my-run"
    found = mltrail.search_runs(filter_string="attributes.run_name = 'my-run'")
    assert list(found["run_id"]) == [run.info.run_id]


def test_client_tags_rename_the_run() -> None:
    client = mltrail.MlflowClient()
    run_id = client.create_run("0").info.run_id
    client.set_tag(run_id, "mlflow.runName", "first")
    assert client.get_run(run_id).info.run_name == "first"
    client.log_batch(run_id, tags=[mltrail.RunTag("mlflow.runName", "second")])
    assert client.get_run(run_id).info.run_name == "second"


def test_start_run_tags_name_the_run() -> None:
    with mltrail.start_run(tags={"mlflow.runName": "tagged"}) as run:
        pass
    assert mltrail.get_run(run.info.run_id).info.run_name == "tagged"


# start_run(parent_run_id=..., log_system_metrics=...)


def test_parent_run_id_makes_a_child_run() -> None:
    with mltrail.start_run() as parent:
        pass
    with mltrail.start_run(parent_run_id=parent.info.run_id) as child:
        pass
    tags = mltrail.get_run(child.info.run_id).data.tags
    assert tags["mlflow.parentRunId"] == parent.info.run_id


def test_parent_run_id_must_be_the_active_run() -> None:
    with mltrail.start_run() as other:
        pass
    with (
        mltrail.start_run(),
        pytest.raises(mltrail.InvalidValueError, match="the active run"),
    ):
        mltrail.start_run(nested=True, parent_run_id=other.info.run_id)


def test_parent_run_id_refuses_a_deleted_run() -> None:
    with mltrail.start_run() as parent:
        pass
    mltrail.delete_run(parent.info.run_id)
    with pytest.raises(mltrail.InvalidValueError, match="not deleted"):
        mltrail.start_run(parent_run_id=parent.info.run_id)


def _run_with_system_metrics() -> None:
    with mltrail.start_run(log_system_metrics=True):
        pass


def test_log_system_metrics_warns_once() -> None:
    with pytest.warns(mltrail.MltrailWarning, match="no system metrics") as caught:
        _run_with_system_metrics()
    with warnings.catch_warnings(record=True) as again:
        warnings.simplefilter("always")
        _run_with_system_metrics()
    assert len(caught) == 1
    assert again == []


def test_log_system_metrics_false_is_silent() -> None:
    with mltrail.start_run(log_system_metrics=False) as run:
        pass
    assert mltrail.get_run(run.info.run_id).info.status == "FINISHED"


# MlflowException


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (mltrail.NotFoundError("run", "abc"), 404),
        (mltrail.InvalidValueError("key", "", "a non-empty str"), 400),
        (mltrail.MltrailError("boom"), 500),
        (mltrail.MltrailError("odd", "NO_SUCH_CODE"), 500),
    ],
    ids=["not-found", "invalid", "internal", "unknown-code"],
)
def test_http_status_code_is_mlflows(error: mltrail.MltrailError, status: int) -> None:
    assert error.get_http_status_code() == status


def test_mlflow_exception_is_importable_from_the_package() -> None:
    from mltrail import MlflowException

    with pytest.raises(MlflowException) as caught:
        mltrail.MlflowClient().get_registered_model("does-not-exist")
    assert caught.value.get_http_status_code() == 404


# Entities


def test_run_status_to_string_takes_mlflows_codes_and_names() -> None:
    from mlflow.entities import RunStatus as MlflowRunStatus

    from mltrail.entities import RunStatus

    for name in ("RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"):
        code = MlflowRunStatus.from_string(name)
        assert RunStatus.to_string(code) == MlflowRunStatus.to_string(code) == name
        assert RunStatus.from_string(name) is RunStatus(name)
    with pytest.raises(mltrail.InvalidValueError, match="code 1 to 5"):
        RunStatus.to_string(6)
    with mltrail.start_run() as run:
        pass
    mltrail.start_run()
    mltrail.end_run(RunStatus.to_string(RunStatus.KILLED))
    killed = mltrail.last_active_run()
    assert killed is not None
    assert killed.info.status == "KILLED"
    assert killed.info.run_id != run.info.run_id


def test_run_to_dictionary_holds_info_and_data() -> None:
    with mltrail.start_run() as run:
        mltrail.log_param("C", 1.0)
        mltrail.log_metric("acc", 0.5)
    read = mltrail.get_run(run.info.run_id).to_dictionary()
    assert read["info"]["run_id"] == run.info.run_id
    assert read["info"]["status"] == "FINISHED"
    assert read["data"]["params"] == {"C": "1.0"}
    assert read["data"]["metrics"] == {"acc": 0.5}
    assert read["inputs"] == {"dataset_inputs": []}
